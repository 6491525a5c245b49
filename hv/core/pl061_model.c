/* The PL061 GPIO controller's register file (ARM DDI 0190), as much of it
 * as Linux's gpio-pl061 driver uses: pure, see vpwrbtn.h. */
#include "core/vpwrbtn.h"

#define GPIODATA_END 0x400 /* 0x000-0x3fc: data, address bits [9:2] mask */
#define GPIODIR 0x400
#define GPIOIS 0x404
#define GPIOIBE 0x408
#define GPIOIEV 0x40c
#define GPIOIE 0x410
#define GPIORIS 0x414
#define GPIOMIS 0x418
#define GPIOIC 0x41c
#define GPIOAFSEL 0x420
#define PERIPH_ID 0xfe0

/* PL061 identification as the Linux amba bus reads it (0x00041061). */
static const uint8_t ids[8] = {0x61, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

void pl061_reset(struct pl061 *p)
{
	*p = (struct pl061){0};
}

bool pl061_irq_asserted(const struct pl061 *p)
{
	return (p->ris & p->ie) != 0;
}

/* Level-sensitive lines: RIS follows the level (GPIOIC cannot clear it
 * while the level holds). */
static void sample_levels(struct pl061 *p)
{
	uint8_t active = (uint8_t) ~(p->in ^ p->iev); /* level equals the wanted one */
	uint8_t lvl = p->is & (uint8_t)~p->dir;

	p->ris = (uint8_t)((p->ris & ~lvl) | (active & lvl));
}

uint32_t pl061_read(const struct pl061 *p, uint32_t off)
{
	if (off < GPIODATA_END) {
		uint8_t mask = (uint8_t)(off >> 2);
		return (uint8_t)((p->data & p->dir) | (p->in & ~p->dir)) & mask;
	}
	switch (off) {
	case GPIODIR:
		return p->dir;
	case GPIOIS:
		return p->is;
	case GPIOIBE:
		return p->ibe;
	case GPIOIEV:
		return p->iev;
	case GPIOIE:
		return p->ie;
	case GPIORIS:
		return p->ris;
	case GPIOMIS:
		return p->ris & p->ie;
	case GPIOAFSEL:
		return p->afsel;
	default:
		if (off >= PERIPH_ID && off < PERIPH_ID + 0x20)
			return ids[(off - PERIPH_ID) / 4];
		return 0;
	}
}

bool pl061_write(struct pl061 *p, uint32_t off, uint32_t v)
{
	uint8_t b = (uint8_t)v;

	if (off < GPIODATA_END) {
		uint8_t mask = (uint8_t)(off >> 2) & p->dir;
		p->data = (uint8_t)((p->data & ~mask) | (b & mask));
		return false;
	}
	switch (off) {
	case GPIODIR:
		p->dir = b;
		break;
	case GPIOIS:
		p->is = b;
		break;
	case GPIOIBE:
		p->ibe = b;
		break;
	case GPIOIEV:
		p->iev = b;
		break;
	case GPIOIE:
		p->ie = b;
		break;
	case GPIOIC:
		p->ris &= (uint8_t)~b;
		break;
	case GPIOAFSEL:
		p->afsel = b;
		break;
	default: /* RIS, MIS, IDs: read-only */
		return false;
	}
	sample_levels(p);
	return pl061_irq_asserted(p);
}

bool pl061_set_input(struct pl061 *p, unsigned line, bool level)
{
	uint8_t bit = (uint8_t)(1u << (line & 7));
	bool before = pl061_irq_asserted(p), was = p->in & bit;

	if (line > 7 || was == level)
		return false;
	p->in = (uint8_t)(level ? p->in | bit : p->in & ~bit);
	if (!(p->dir & bit) && !(p->is & bit)) {
		bool rising = level;
		if ((p->ibe & bit) || rising == !!(p->iev & bit))
			p->ris |= bit;
	}
	sample_levels(p);
	return !before && pl061_irq_asserted(p);
}
