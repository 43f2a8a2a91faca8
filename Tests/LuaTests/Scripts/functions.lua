-- Varargs, multiple returns, tail calls, recursion.
local function f(...) return ... end
print(f(1, 2, 3))
print((f(1, 2, 3)))
print(f(), "x")
print(select("#"), select("#", nil), select("#", nil, nil), select(2, "a", "b", "c"), select(-1, "a", "b"))
print(pcall(select, 0, "a"))
local function g(a, b, ...) return a, b, select("#", ...), ... end
print(g(1))
print(g(1, 2, 3, 4))
local t = {f(1, 2, 3), f(4, 5)}
print(#t, t[1], t[2], t[3], t[4])
local t2 = {f(1, 2, 3), n = 1}
print(#t2)
print(unpack({1, 2, 3}), unpack({1, 2, 3}, 2), unpack({1, 2, 3}, 2, 3), unpack({}, 1, 2))
local function old(...) return arg and arg.n, arg and arg[1] end
print(old(7, 8))
local function sum(n, acc) if n == 0 then return acc end return sum(n - 1, acc + n) end
print(sum(100000, 0))
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
print(fib(20))
local function count(n) if n == 0 then return 0 end return 1 + count(n - 1) end
print(count(10000))
local obj = {v = 5}
function obj:get(d) return self.v + (d or 0) end
function obj.static(x) return x * 2 end
print(obj:get(), obj:get(1), obj.get(obj, 2), obj.static(4))
local a, b, c = (function() return 1, 2, 3 end)()
print(a, b, c)
local x, y = 1
print(x, y)
local p, q = 1, 2, 3
print(p, q)
local function none() end
print(none(), (none()))
print(pcall(type, none()), select("#", none()), select("#", (none())))
local function multi() return 1, 2 end
local r = {multi(), multi()}
print(#r)
print(string.format("%d %d", multi()))
print(math.max(multi()), tostring(multi()))
local function deep(n) if n > 0 then return deep(n - 1) end return "bottom" end
print(deep(50000))
print(pcall(function() local function inf(n) return 1 + inf(n + 1) end return inf(1) end))
local function va2(...) local a, b = ...; return a, b end
print(va2(9))
print((select('#', f(nil, nil, nil))))
