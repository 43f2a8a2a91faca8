-- Redis's math.random sequence, number formatting and library details (expected from redis-server).
local out = {}
local function p(...)
  local t = {}
  for i = 1, select("#", ...) do t[#t + 1] = tostring((select(i, ...))) end
  out[#out + 1] = table.concat(t, " | ")
end
math.randomseed(1)
p(math.random(), math.random(), math.random(100), math.random(5, 10), math.random(-10, -5))
math.randomseed(12345)
local s = {}
for i = 1, 10 do s[i] = math.random(1000) end
p(table.concat(s, ","))
math.randomseed(-7)
p(math.random(), pcall(math.random, 0), pcall(math.random, 2, 1), pcall(math.random, 1, 2, 3))
p(pcall(math.randomseed), pcall(math.randomseed, "x"))
p(tostring(1e15), 1e100, 2 ^ 63, -2 ^ 63, 0.1, 1 / 3, 100, -100, 1e14, 99999999999999, 123.456)
p(string.format("%.14g", 0.1), string.format("%d", 2 ^ 53), string.format("%5.2f", -1.005))
p(type(loadstring), type(load), type(gcinfo), type(coroutine.wrap))
local function g(name) return type(rawget(_G, name)) end
p(g("print"), g("dofile"), g("loadfile"), g("os"), g("io"), g("require"), g("module"), g("package"))
p(_VERSION, g("_G"), g("bit"), g("struct"), g("cjson"), g("cmsgpack"), g("debug"), g("gcinfo"))
p(select("#", unpack({1, 2, 3})))
local f = loadstring("return 1 + 1")
p(f(), pcall(loadstring("error('x')")), loadstring("syntax error here"))
p(pcall(string.dump, tostring))
p(string.rep("ab", 3), ("x"):rep(0), table.concat({1, 2, 3}, "-"), #tostring({}) > 6, tostring(nil))
return table.concat(out, "\n")
