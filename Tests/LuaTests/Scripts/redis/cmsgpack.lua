-- cmsgpack as Redis ships it (expected output produced by redis-server 7.0.15 with EVAL).
local out = {}
local function p(...)
  local t = {}
  for i = 1, select("#", ...) do t[#t + 1] = tostring((select(i, ...))) end
  out[#out + 1] = table.concat(t, " | ")
end
local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
local pk = cmsgpack.pack
p(hex(pk(0)), hex(pk(1)), hex(pk(127)), hex(pk(128)), hex(pk(255)), hex(pk(256)), hex(pk(65535)), hex(pk(65536)))
p(hex(pk(4294967295)), hex(pk(4294967296)), hex(pk(-1)), hex(pk(-32)), hex(pk(-33)), hex(pk(-128)), hex(pk(-129)))
p(hex(pk(-32768)), hex(pk(-32769)), hex(pk(-2147483648)), hex(pk(-2147483649)), hex(pk(2 ^ 62)), hex(pk(-2 ^ 62)))
p(hex(pk(1.5)), hex(pk(0.1)), hex(pk(1e300)), hex(pk(1 / 0)), hex(pk(2 ^ 63)), hex(pk(2 ^ 64)))
p(hex(pk("")), hex(pk("abc")), #pk(string.rep("x", 31)), hex(pk(string.rep("x", 32)):sub(1, 6)), hex(pk(string.rep("x", 256)):sub(1, 8)), hex(pk(string.rep("x", 65536)):sub(1, 12)))
p(hex(pk(true)), hex(pk(false)), hex(pk(nil)), hex(pk(tostring)), hex(pk(cjson.null)))
p(hex(pk({})), hex(pk({1, 2, 3})), hex(pk({1, nil, 3})), hex(pk({[1] = 1, [3] = 3})), hex(pk({a = 1})), hex(pk({[0] = 1})))
p(#pk((function() local t = {} for i = 1, 16 do t[i] = i end return t end)()), hex(pk((function() local t = {} for i = 1, 16 do t[i] = i end return t end)()):sub(1, 6)))
p(hex(pk(1, 2, "x")), pcall(pk))
local nest = {}
local cur = nest
for i = 1, 20 do cur[1] = {}; cur = cur[1] end
p(hex(pk(nest)))
local cyc = {}
cyc[1] = cyc
p(#pk(cyc))
local up = cmsgpack.unpack
p(up(pk(1, -1, 1.5, "str", true, false)))
p(up(pk(nil)), select("#", up(pk(nil))), select("#", up("")))
local t = up(pk({1, 2, {a = "b"}}))
p(t[1], t[3].a, #t)
local m = up(pk({x = 1, y = {z = true}}))
p(m.x, m.y.z)
p(up(string.char(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)), up(string.char(0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0)))
p(up(string.char(0xd0, 0xff)), up(string.char(0xd1, 0xff, 0x00)), up(string.char(0xd2, 0x80, 0, 0, 0)), up(string.char(0xca, 0x3f, 0xc0, 0, 0)))
p(up(string.char(0xe0)), up(string.char(0x7f)), up(string.char(0xa3, 97, 98, 99)), up(string.char(0xd9, 2, 104, 105)), up(string.char(0xda, 0, 1, 122)))
p(pcall(up, string.char(0xc1)), pcall(up, string.char(0xcd, 1)), pcall(up, string.char(0x92, 1)), pcall(up, string.char(0xa5, 97)))
p(pcall(up, string.char(0x81, 0xc0, 1)), pcall(up, string.char(0xdb, 0, 0, 0, 5, 1)))
p(pcall(up), pcall(up, {}))
local packed = pk(1, 2, 3, 4)
p(cmsgpack.unpack_one(packed))
p(cmsgpack.unpack_one(packed, 1))
p(cmsgpack.unpack_one(packed, 3))
p(cmsgpack.unpack_limit(packed, 2))
p(cmsgpack.unpack_limit(packed, 2, 2))
p(cmsgpack.unpack_limit(packed, 10))
p(pcall(cmsgpack.unpack_one, packed, -1), pcall(cmsgpack.unpack_one, packed, 10), pcall(cmsgpack.unpack_limit, packed, -1))
local big = {}
for i = 1, 100 do big[i] = {i, tostring(i)} end
local back = up(pk(big))
p(#back, back[100][2], back[50][1])
p(pcall(up, string.rep(string.char(0x91), 5000) .. string.char(1)))
p(cmsgpack._NAME, cmsgpack._VERSION)
return table.concat(out, "\n")
