-- bit and struct as Redis ships them (expected output produced by redis-server 7.0.15 with EVAL).
local out = {}
local function p(...)
  local t = {}
  for i = 1, select("#", ...) do t[#t + 1] = tostring((select(i, ...))) end
  out[#out + 1] = table.concat(t, " | ")
end
p(bit.tobit(0), bit.tobit(2 ^ 31), bit.tobit(2 ^ 32 + 1), bit.tobit(-1), bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-1.5), bit.tobit("7"))
p(bit.bnot(0), bit.bnot(-1), bit.band(0xff, 0xf0, 0x3c), bit.bor(1, 2, 4, 8), bit.bxor(0xff, 0x0f), pcall(bit.band))
p(bit.lshift(1, 0), bit.lshift(1, 31), bit.lshift(1, 32), bit.lshift(1, 33), bit.rshift(0x80000000, 31), bit.rshift(-1, 0), bit.arshift(-1, 31), bit.arshift(0x80000000, 4))
p(bit.rol(0x12345678, 4), bit.ror(0x12345678, 4), bit.rol(1, 0), bit.ror(1, 32), bit.bswap(0x11223344), bit.bswap(-1))
p(bit.tohex(0), bit.tohex(255), bit.tohex(-1), bit.tohex(255, 2), bit.tohex(255, -2), bit.tohex(0x12345678, 4), bit.tohex(1, 10), bit.tohex(1, 0))
p(pcall(bit.bor, 1, "x"), pcall(bit.tohex, 1, nil), pcall(bit.tobit, {}))
local sp = struct.pack
local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
p(hex(sp("b", -1)), hex(sp("B", 255)), hex(sp("h", -2)), hex(sp(">h", 258)), hex(sp("<H", 258)), hex(sp("i", 1)), hex(sp(">i", 1)), hex(sp("l", -1)))
p(hex(sp("i3", 0x123456)), hex(sp(">i3", 0x123456)), hex(sp("i16", 1)), hex(sp("f", 1.5)), hex(sp(">d", 1.5)), hex(sp("x")))
p(hex(sp("s", "ab")), hex(sp("c3", "abcdef")), hex(sp("c0", "xyz")), pcall(sp, "c5", "ab"))
p(hex(sp("!4 b i", 1, 2)), hex(sp("!2 b h b i", 1, 2, 3, 4)), hex(sp("!8 b d", 1, 2)), hex(sp("<!4 i2 i4", 1, 2)))
p(pcall(sp, "y", 1), pcall(sp, "!3 i", 1), pcall(sp, "i33", 1), pcall(sp, "i", "x"), pcall(sp, "i"))
p(hex(sp("I", -1)), hex(sp("I8", 2 ^ 63)), hex(sp("b", 300)), hex(sp("B", -1)))
local su = struct.unpack
p(su("b", sp("b", -5)), su("B", "\255"), su(">h", "\255\254"), su("<I2", "\1\2"), su("i3", sp("i3", -2)), su(">I4", "\255\255\255\255"))
p(su("f", sp("f", 0.25)), su("d", sp("d", math.pi)), su("s", "hello\0rest"), su("c3", "abcdef"), su("b c0", "\3abcdef"))
p(su("i i", sp("i i", 10, 20)), su("i", sp("i i", 10, 20), 5), su("x b", "\0\7"))
p(pcall(su, "i", "ab"), pcall(su, "s", "no terminator"), pcall(su, "c0", "x"), pcall(su, "i", "abcd", 0), pcall(su, "i", "abcd", -1))
p(struct.size("b"), struct.size("i"), struct.size("!4 b i"), struct.size("d h"), struct.size("!8 b d"), struct.size("c10"), struct.size("<> "))
p(pcall(struct.size, "s"), pcall(struct.size, "c0"), pcall(struct.size, "!7"), struct.size("z"))
p(su("i16", sp("i16", -1)), su("I16", sp("I16", 5)))
return table.concat(out, "\n")
