-- Coroutines: resume/yield values, status, wrap, errors, generators.
local co = coroutine.create(function(a, b)
  print("start", a, b)
  local c = coroutine.yield(a + b)
  print("got", c)
  local d, e = coroutine.yield(c * 2)
  print("got2", d, e)
  return "done", d + e
end)
print(coroutine.status(co))
print(coroutine.resume(co, 1, 2))
print(coroutine.status(co))
print(coroutine.resume(co, 10))
print(coroutine.resume(co, 3, 4))
print(coroutine.status(co))
print(coroutine.resume(co))
local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end return "end" end)
print(gen(), gen(), gen(), gen())
print(pcall(gen))
local err = coroutine.create(function() error("inside") end)
print(coroutine.resume(err))
print(coroutine.status(err))
local errt = coroutine.create(function() error({1}) end)
local ok, e = coroutine.resume(errt)
print(ok, type(e))
print(pcall(coroutine.wrap(function() error("wrapped") end)))
print(coroutine.running())
local inner
local outer = coroutine.create(function()
  print("outer running", coroutine.running() ~= nil, coroutine.status(coroutine.running()))
  inner = coroutine.create(function() print("outer status from inner", coroutine.status(outer)); coroutine.yield(1) end)
  print(coroutine.resume(inner))
  coroutine.yield("o")
end)
print(coroutine.resume(outer))
print(coroutine.status(inner), coroutine.status(outer))
print(coroutine.resume(coroutine.running and outer))
print(coroutine.resume(outer))
print(pcall(coroutine.create, print))
print(pcall(coroutine.resume, 1))
print(pcall(coroutine.yield, 1))
print(coroutine.resume(coroutine.create(function() return pcall(coroutine.yield, 1) end)))
local sorter = coroutine.create(function() table.sort({3, 2, 1}, function(a, b) coroutine.yield(); return a < b end) end)
print(coroutine.resume(sorter))
local function perm(a, n)
  n = n or #a
  if n <= 1 then coroutine.yield(a) else
    for i = 1, n do a[n], a[i] = a[i], a[n]; perm(a, n - 1); a[n], a[i] = a[i], a[n] end
  end
end
local count = 0
for p in coroutine.wrap(function() perm({1, 2, 3, 4}) end) do count = count + 1 end
print("perms", count)
local accum = coroutine.wrap(function(x) local s = 0; while true do s = s + x; x = coroutine.yield(s) end end)
print(accum(1), accum(2), accum(3))
local many = {}
for i = 1, 100 do many[i] = coroutine.create(function(x) coroutine.yield(x) return x * 2 end) end
local s = 0
for i = 1, 100 do local _, v = coroutine.resume(many[i], i); s = s + v end
for i = 1, 100 do local _, v = coroutine.resume(many[i]); s = s + v end
print(s)
local deep = coroutine.create(function() local function r(n) if n == 0 then coroutine.yield("deep") return 0 end return 1 + r(n - 1) end return r(1000) end)
print(coroutine.resume(deep))
print(coroutine.resume(deep))
local mt = coroutine.create(function() local t = setmetatable({}, {__index = function() coroutine.yield() end}); return t.x end)
print(coroutine.resume(mt))
