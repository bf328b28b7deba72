#!/bin/sh
# tools/mkksyms.sh KERNEL > ksyms.S: the kernel's function symbols, sorted by address,
# as the .ksyms table kern/backtrace.c searches.  With no argument: an empty table
# (the first link pass).
set -e
echo '	.section .ksyms, "a"'
echo '	.balign 8'
echo '	.globl ksyms_count, ksyms_table'
if [ -z "$1" ]; then
	echo 'ksyms_count: .quad 0'
	echo 'ksyms_table:'
	exit 0
fi
nm -n "$1" | awk '
	$2 ~ /^[tT]$/ && $3 !~ /^\./ { addr[n] = $1; name[n] = $3; n++ }
	END {
		printf "ksyms_count: .quad %d\n", n
		print "ksyms_table:"
		for (i = 0; i < n; i++) printf "\t.quad 0x%s, ksym_name_%d\n", addr[i], i
		for (i = 0; i < n; i++) printf "ksym_name_%d: .asciz \"%s\"\n", i, name[i]
	}'
