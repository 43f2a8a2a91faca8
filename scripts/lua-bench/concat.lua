-- String building: 200k concatenations into a table, table.concat, and .. in a loop.
local t = {}
for i = 1, 200000 do t[#t + 1] = "item" .. i end
local s = table.concat(t, ",")
local x = ""
for i = 1, 5000 do x = x .. "ab" end
print(#s, #x)
