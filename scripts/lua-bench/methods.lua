-- Objects with metatables, tostring, and pattern matching.
local Point = {}
Point.__index = Point
function Point.new(x, y) return setmetatable({x = x, y = y}, Point) end
function Point:add(o) return Point.new(self.x + o.x, self.y + o.y) end
local p = Point.new(0, 0)
for i = 1, 300000 do p = p:add(Point.new(1, 1)) end
local s = 0
for i = 1, 300000 do s = s + #tostring(i) end
local words = 0
local text = string.rep("the quick brown fox jumps over the lazy dog ", 5000)
for w in text:gmatch("%a+") do words = words + 1 end
print(p.x, s, words, #(text:gsub("o", "0")))
