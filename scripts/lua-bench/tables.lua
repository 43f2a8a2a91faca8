-- Table insert and lookup: 1M array stores, 200k string keys, field updates.
local t = {}
for i = 1, 1000000 do t[i] = i end
local h = {}
for i = 1, 200000 do h["k" .. i] = i end
local s = 0
for i = 1, 200000 do s = s + h["k" .. i] end
for i = 1, 1000000 do s = s + t[i] end
local obj = {x = 1, y = 2}
for i = 1, 1000000 do obj.x = obj.x + obj.y end
print(s, obj.x)
