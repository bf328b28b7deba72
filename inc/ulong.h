/* _UL(x): an unsigned long constant in C, a plain number in assembly. */
#ifndef SPOS_INC_ULONG_H
#define SPOS_INC_ULONG_H
#ifdef __ASSEMBLER__
#define _UL(x)	x
#else
#define _UL(x)	x##UL
#endif
#endif
