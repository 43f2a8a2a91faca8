-- Constructors, length, holes, traversal order, the table library.
local t = {1, 2, 3, nil, 5}
print(#t, t[5])
local h = {}
h[1] = 1; h[2] = 2; h[4] = 4
print(#h)
local big = {}
for i = 1, 100 do big[i] = i end
for i = 1, 50 do big[i * 2] = nil end
print(#big == 99 or #big == 1 or #big)
local s = {x = 1, y = 2, [1] = "a", [2] = "b", [3.5] = "c", [true] = "t"}
print(s.x, s["y"], s[1], s[3.5], s[true], #s)
local order = {}
for k, v in pairs({alpha = 1, beta = 2, gamma = 3, delta = 4, epsilon = 5, zeta = 6}) do order[#order + 1] = k end
print(table.concat(order, " "))
local arr = {}
for i = 1, 10 do table.insert(arr, i) end
table.insert(arr, 1, 0)
table.insert(arr, 5, "five")
print(table.concat(arr, ","), #arr)
print(table.remove(arr), table.remove(arr, 1), table.remove(arr, 4), #arr)
print(table.remove({}), table.remove({}, 1))
print(table.concat({1, 2, 3}, ", ", 2, 3), table.concat({}, "x"), table.concat({"a"}, "x", 1, 1))
print(pcall(table.concat, {1, {}, 3}))
print(pcall(table.insert, {}, 1, 2, 3))
print(table.getn({1, 2, 3}), table.maxn({1, 2, [10] = 3, [2.5] = 1}), pcall(table.setn, {}, 1))
local srt = {5, 3, 8, 1, 9, 2, 7, 4, 6, 10}
table.sort(srt)
print(table.concat(srt, " "))
table.sort(srt, function(a, b) return a > b end)
print(table.concat(srt, " "))
local words = {"banana", "apple", "Cherry", "date"}
table.sort(words)
print(table.concat(words, " "))
print(pcall(table.sort, {3, 1, "x"}))
print(pcall(table.sort, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, function(a, b) return true end))
local recs = {{n = 3}, {n = 1}, {n = 2}}
table.sort(recs, function(a, b) return a.n < b.n end)
print(recs[1].n, recs[2].n, recs[3].n)
local cnt = 0
for k, v in pairs({1, 2, 3, a = 4, b = 5}) do cnt = cnt + v end
print(cnt)
print(next({}), next({7}))
local nt = {10, 20, 30}
local k, v = next(nt)
print(k, v, next(nt, k), next(nt, 3))
print(pcall(next, nt, "nokey"))
local del = {a = 1, b = 2, c = 3, d = 4}
for k in pairs(del) do del[k] = nil end
print(next(del))
print(rawequal(t, t), rawequal(t, {}), rawget({5}, 1), rawset({}, "k", "v").k)
print(pcall(rawset, {}, nil, 1))
print(pcall(function() local x = {}; x[nil] = 1 end))
print(pcall(function() local x = {}; x[0 / 0] = 1 end))
local nested = {a = {b = {c = "deep"}}}
print(nested.a.b.c, #{n = 1}, #{{}, {}})
local ipt = {}
for i, v in ipairs({1, 2, nil, 4}) do ipt[#ipt + 1] = i end
print(#ipt)
local u = {}
u[1.0] = "one"; u[2] = "two"
print(u[1], #u)
local neg = {[-1] = "m", [0] = "z"}
print(neg[-1], neg[0], #neg)
print(#{n = 1, 1, 2}, select("#", unpack({1, nil, 3})))
local many = {}
for i = 1, 300 do many[i] = i end
print(#many, many[300], select("#", unpack(many)))
local grow = {}
for i = 1, 1000 do grow["k" .. i] = i end
local c2 = 0
for _ in pairs(grow) do c2 = c2 + 1 end
print(c2, grow.k500)
local mix = {1, 2, 3, x = "x", y = "y"}
local ks = {}
for k, v in pairs(mix) do ks[#ks + 1] = tostring(k) end
print(table.concat(ks, " "))
