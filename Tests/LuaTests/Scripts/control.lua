-- Loops, scoping, closures and upvalues.
local t = {}
for i = 1, 3 do t[i] = function() return i end end
print(t[1](), t[2](), t[3]())
local u = {}
local j = 0
while j < 3 do
  j = j + 1
  local k = j * 10
  u[j] = function() k = k + 1; return k end
end
print(u[1](), u[1](), u[2](), u[3]())
for i = 10, 1, -3 do io_write = (io_write or "") .. i .. " " end
print(io_write)
for i = 1, 0 do print("never") end
for i = 1.5, 3.5 do print("f", i) end
for i = 1, 3 do local x = i; if x == 2 then break end; print("b", x) end
local n = 0
repeat local stop = n >= 3; n = n + 1 until stop
print("repeat", n)
local acc = {}
for k, v in ipairs({"a", "b", nil, "d"}) do acc[#acc + 1] = k .. v end
print(table.concat(acc, ","))
local keys = {}
for k in pairs({x = 1, y = 2, z = 3}) do keys[#keys + 1] = k end
table.sort(keys)
print(table.concat(keys))
local function counter()
  local c = 0
  return function() c = c + 1; return c end, function() return c end
end
local inc, get = counter()
inc(); inc()
print(get())
do local a = 1; do local a = 2; print(a) end; print(a) end
local x = 1
local function shadow() local x = x + 1; return x end
print(shadow(), x)
if false then print(1) elseif nil then print(2) elseif 0 then print("zero is true") else print(3) end
local s = 0
for i = 1, 100 do if i % 2 == 0 then s = s + i end end
print(s)
local fs = {}
for i = 1, 3 do
  local v = i
  fs[i] = function() v = v * 2; return v end
end
print(fs[1](), fs[1](), fs[2](), fs[3]())
local ok, err = pcall(function() for i = "a", 2 do end end)
print(ok, err)
print(pcall(function() for i = 1, "x" do end end))
print(pcall(function() for i = 1, 2, {} do end end))
local w = 0
while true do w = w + 1; if w > 5 then break end end
print(w)
goto_ = 1
print(goto_)
