-- Metamethods.
local mt = {}
mt.__index = function(t, k) return "idx:" .. tostring(k) end
local o = setmetatable({}, mt)
print(o.foo, o[1], rawget(o, "foo"))
local base = {greet = function(self) return "hi " .. self.name end}
local derived = setmetatable({name = "d"}, {__index = base})
print(derived:greet())
local chain = setmetatable({}, {__index = setmetatable({}, {__index = {deep = "yes"}})})
print(chain.deep)
local log = {}
local proxy = setmetatable({}, {__newindex = function(t, k, v) log[#log + 1] = k .. "=" .. tostring(v); rawset(t, k, v) end})
proxy.a = 1; proxy.a = 2; proxy.b = 3
print(table.concat(log, " "), proxy.a)
local store = {}
local redirect = setmetatable({}, {__newindex = store})
redirect.x = 5
print(rawget(redirect, "x"), store.x)
local V = {}
V.__add = function(a, b) return setmetatable({v = a.v + b.v}, V) end
V.__sub = function(a, b) return setmetatable({v = a.v - b.v}, V) end
V.__mul = function(a, b) return setmetatable({v = (type(a) == "table" and a.v or a) * (type(b) == "table" and b.v or b)}, V) end
V.__div = function(a, b) return "div" end
V.__mod = function(a, b) return "mod" end
V.__pow = function(a, b) return "pow" end
V.__unm = function(a) return setmetatable({v = -a.v}, V) end
V.__concat = function(a, b) return "cat(" .. tostring(type(a) == "table" and a.v or a) .. "," .. tostring(type(b) == "table" and b.v or b) .. ")" end
V.__eq = function(a, b) return a.v == b.v end
V.__lt = function(a, b) return a.v < b.v end
V.__le = function(a, b) return a.v <= b.v end
V.__tostring = function(a) return "V(" .. a.v .. ")" end
V.__call = function(self, x) return self.v + x end
V.__len = function() return 99 end
local a, b = setmetatable({v = 1}, V), setmetatable({v = 2}, V)
print((a + b).v, (a - b).v, (a * 3).v, (2 * b).v, a / b, a % b, a ^ b, (-a).v)
print(a .. b, a .. "s", "s" .. b, 1 .. a)
print(a == b, a == setmetatable({v = 1}, V), a ~= b, a < b, a <= b, a > b, a >= b)
print(tostring(a), a(10), #a)
local W = {__eq = function() return true end}
local w1, w2 = setmetatable({}, W), setmetatable({}, {__eq = function() return true end})
print(w1 == w2, w1 == setmetatable({}, W))
print(pcall(function() return a < 1 end))
print(pcall(function() return {} < {} end))
print(pcall(function() return {} .. "x" end))
print(pcall(function() return -{} end))
print(pcall(function() return #nil end))
print(pcall(function() local t = setmetatable({}, {__index = function(t, k) error("no " .. k) end}); return t.zzz end))
local prot = setmetatable({}, {__metatable = "locked"})
print(getmetatable(prot), pcall(setmetatable, prot, {}))
print(getmetatable("abc").__index == string, ("x"):rep(3), #getmetatable("").__index.format("%5d", 1))
local calls = 0
local lazy = setmetatable({}, {__index = function(t, k) calls = calls + 1; rawset(t, k, k * 2); return k * 2 end})
print(lazy[4], lazy[4], calls)
local cnt = setmetatable({}, {__call = function(self, a, b) return a + b, "second" end})
print(cnt(3, 4))
print(pcall(setmetatable, 1, {}))
print(pcall(setmetatable, {}, 1))
print(getmetatable({}), getmetatable(1))
local loop = setmetatable({}, {})
getmetatable(loop).__index = loop
print(pcall(function() return loop.x end))
local u = newproxy(true)
getmetatable(u).__len = function() return 7 end
getmetatable(u).__tostring = function() return "proxy!" end
print(type(u), #u, tostring(u), type(newproxy()), pcall(newproxy, 1))
local u2 = newproxy(u)
print(getmetatable(u2) == getmetatable(u))
local t = setmetatable({}, {__index = string})
print(t.upper("x"))
print(rawequal(a, a), rawlen == nil)
local mm = setmetatable({}, {__add = function(a, b) return 42 end})
print(mm + 1, 1 + mm, "10" + 1, pcall(function() return "a" + 1 end))
