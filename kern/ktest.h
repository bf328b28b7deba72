/* In-kernel tests selected with test=NAME on the command line (kern/ktest.c). */
#ifndef SPOS_KERN_KTEST_H
#define SPOS_KERN_KTEST_H

/* Run the named test; prints "ktest NAME: PASS|FAIL" and exits QEMU. Returns only if unknown. */
void ktest_run(const char *name);
/* List the test names on the console. */
void ktest_list(void);

/* Promotion and mprotect tests (kern/ktest_vm.c): 0 on success. */
int ktest_vm_promote(void);
int ktest_vm_mprotect(void);

#endif
