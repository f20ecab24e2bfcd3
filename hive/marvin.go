package hive

import "math/bits"

// marvinSeed is the seed Windows uses for the hashes of HvLE log entries.
const marvinSeed = 0x82EF4D887A4E55C5 // 14219357686671994754

// marvin32 computes the Marvin32 hash (as published by Microsoft in the
// .NET runtime, MIT licence) of data with the given seed.
func marvin32(seed uint64, data []byte) uint64 {
	p0, p1 := uint32(seed), uint32(seed>>32)
	for len(data) >= 4 {
		p0 += le.Uint32(data)
		p0, p1 = marvinBlock(p0, p1)
		data = data[4:]
	}
	var final uint32
	switch len(data) {
	case 0:
		final = 0x80
	case 1:
		final = 0x8000 | uint32(data[0])
	case 2:
		final = 0x800000 | uint32(le.Uint16(data))
	case 3:
		final = 0x80000000 | uint32(data[2])<<16 | uint32(le.Uint16(data))
	}
	p0 += final
	p0, p1 = marvinBlock(p0, p1)
	p0, p1 = marvinBlock(p0, p1)
	return uint64(p1)<<32 | uint64(p0)
}

func marvinBlock(p0, p1 uint32) (uint32, uint32) {
	p1 ^= p0
	p0 = bits.RotateLeft32(p0, 20)
	p0 += p1
	p1 = bits.RotateLeft32(p1, 9)
	p1 ^= p0
	p0 = bits.RotateLeft32(p0, 27)
	p0 += p1
	p1 = bits.RotateLeft32(p1, 19)
	return p0, p1
}
