#include "textflag.h"

// func bestMatchAsm(w *window, prev *[MaxChunkSize]uint16, n, i, minGain, minLen, depth, cand3 int) (length, offset, bestGain int)
//
// bestMatch step for step (see its Go text, the oracle): the 3-byte
// candidate, then the chain walk, each candidate tested first on the four
// bytes ending one past the best length, then on the first four, then
// extended eight bytes at a time (XOR, BSF) and byte by byte at the end;
// a longer match is taken when its gain (6*len - 8 - (bits.Len(offset)-1),
// 8 less from length 18) beats the best.
//
// Registers in the walk: SI window, DI prev, R8 window+i, R9 cand, R10
// depth left, R11 best length, R12 best gain, R13 limit-4, R14 the four
// bytes at i, BX the four bytes ending at i+best, R15 best offset; AX CX
// DX scratch; nice on the stack.
TEXT ·bestMatchAsm(SB), NOSPLIT, $8-88
	MOVQ w+0(FP), SI
	MOVQ prev+8(FP), DI
	MOVQ i+24(FP), CX
	LEAQ (SI)(CX*1), R8
	MOVQ n+16(FP), R13
	SUBQ CX, R13
	MOVQ minLen+40(FP), R11
	MOVQ $3, AX
	CMPQ R11, AX
	CMOVQLT AX, R11
	DECQ R11
	MOVQ minGain+32(FP), R12
	XORL R15, R15

	// The 3-byte candidate, for a match of exactly three bytes.
	MOVQ  cand3+56(FP), R9
	TESTQ R9, R9
	JLT   chain
	CMPQ  R11, $3
	JGE   chain
	MOVL  (SI)(R9*1), AX
	XORL  (R8), AX
	ANDL  $0xFFFFFF, AX
	JNZ   chain
	MOVQ  R8, CX
	SUBQ  SI, CX
	SUBQ  R9, CX
	BSRQ  CX, DX
	MOVQ  $10, AX
	SUBQ  DX, AX
	CMPQ  AX, R12
	JLE   chain
	MOVQ  $3, R11
	MOVQ  CX, R15
	MOVQ  AX, R12

chain:
	CMPQ R13, $4
	JLT  done
	MOVQ $48, AX
	CMPQ R13, AX
	CMOVQLT R13, AX
	MOVQ AX, nice-8(SP)
	MOVL (R8), R14

	// best = max(best, 3, (minGain+8)/6); minGain >= 0 and small, so the
	// division is a multiply by ceil(2^34/6) and a shift.
	MOVQ minGain+32(FP), AX
	ADDQ $8, AX
	MOVQ $0xAAAAAAAB, CX
	IMULQ CX, AX
	SHRQ $34, AX
	MOVQ $3, DX
	CMPQ R11, DX
	CMOVQLT DX, R11
	CMPQ R11, AX
	CMOVQLT AX, R11

	SUBQ $4, R13
	MOVL -3(R8)(R11*1), BX
	MOVQ depth+48(FP), R10
	TESTQ R10, R10
	JLE  done
	MOVQ i+24(FP), CX
	MOVWQZX (DI)(CX*2), R9
	DECQ R9
	JLT  done

	// One candidate per turn: cand >= 0 and depth > 0 here.
	PCALIGN $16

loop:
	LEAQ  (SI)(R9*1), AX
	CMPL  -3(AX)(R11*1), BX
	JNE   next
	CMPL  (AX), R14
	JNE   next

	XORL DX, DX

words:
	LEAQ 8(DX), CX
	CMPQ CX, R13
	JGT  tail
	MOVQ 4(AX)(DX*1), CX
	XORQ 4(R8)(DX*1), CX
	JNZ  differ
	ADDQ $8, DX
	JMP  words

differ:
	BSFQ CX, CX
	SHRQ $3, CX
	ADDQ CX, DX
	JMP  extended

tail:
	CMPQ    DX, R13
	JGE     extended
	MOVBLZX 4(AX)(DX*1), CX
	CMPB    CL, 4(R8)(DX*1)
	JNE     extended
	INCQ    DX
	JMP     tail

extended:
	ADDQ $4, DX
	CMPQ DX, R11
	JLE  next
	MOVQ R8, CX
	SUBQ SI, CX
	SUBQ R9, CX
	BSRQ CX, CX
	LEAQ (DX)(DX*2), AX
	SHLQ $1, AX
	SUBQ $8, AX
	SUBQ CX, AX
	CMPQ DX, $18
	JLT  gained
	SUBQ $8, AX

gained:
	CMPQ AX, R12
	JLE  next
	MOVQ DX, R11
	MOVQ AX, R12
	MOVQ R8, R15
	SUBQ SI, R15
	SUBQ R9, R15
	MOVL -3(R8)(R11*1), BX
	CMPQ DX, nice-8(SP)
	JGE  done

next:
	DECQ    R10
	JLE     done
	MOVWQZX (DI)(R9*2), R9
	DECQ    R9
	JGE     loop

done:
	TESTQ R15, R15
	JEQ   none
	MOVQ  R11, length+64(FP)
	MOVQ  R15, offset+72(FP)
	MOVQ  R12, bestGain+80(FP)
	RET

none:
	MOVQ $0, length+64(FP)
	MOVQ $0, offset+72(FP)
	MOVQ minGain+32(FP), AX
	MOVQ AX, bestGain+80(FP)
	RET
