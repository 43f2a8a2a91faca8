-- cjson as Redis ships it (expected output produced by redis-server 7.0.15 with EVAL).
local out = {}
local function p(...)
  local t = {}
  for i = 1, select("#", ...) do t[#t + 1] = tostring((select(i, ...))) end
  out[#out + 1] = table.concat(t, " | ")
end
local e = cjson.encode
p(e({}), e({1, 2, 3}), e({a = 1}), e({a = {}}), e({{}, {}}), e(""), e("x"), e(true), e(false), e(nil))
p(e("a/b\"c\\d\n\r\t\b\f\0\1\31\127\128\255"), e("caf\195\169"))
p(e(1), e(-1), e(1.5), e(0.1), e(1 / 3), e(1e20), e(1e-20), e(123456789012345), e(2 ^ 53), e(-0))
p(e({1, nil, 3}), e({[1] = "a", [2] = "b"}), e({[2] = "x"}), e({[0] = "z"}), e({[1.5] = 1}), e({["1"] = 1}))
p(e({1, 2, x = 3}), e({[-1] = 1}), e({[10] = 1}), pcall(e, {[11] = 1}))
p(e({a = {b = {c = {d = "deep"}}}}), e({{1, {2, {3}}}}))
p(pcall(e), pcall(e, 1, 2))
p(pcall(e, {[true] = 1}), pcall(e, {[{}] = 1}))
p(pcall(e, tostring), pcall(e, coroutine.create(function() end)), pcall(e, 0 / 0), pcall(e, 1 / 0), pcall(e, -1 / 0))
local deep = {}
local cur = deep
for i = 1, 1100 do cur[1] = {}; cur = cur[1] end
p(pcall(e, deep))
local cyc = {}
cyc[1] = cyc
p(pcall(e, cyc))
p(e(cjson.null), e({cjson.null, 1}), e({k = cjson.null}))
local d = cjson.decode
p(d("1"), d("-1.5e3"), d('"str"'), d("true"), d("false"), d("null") == cjson.null, type(d("null")))
p(d("[1,2,3]")[3], #d("[1,2,3]"), d('{"a":{"b":[10,20]}}').a.b[2], #d("[]"), next(d("{}")))
p(d('"\\u0041\\u00e9\\u20ac\\ud83d\\ude00"'), d('"\\n\\t\\r\\b\\f\\/\\\\\\""'))
p(d(" [ 1 , 2 ] ")[2], d("0x1F"), d("1e2"), d("-0"), d(" 12 "))
p(pcall(d, ""), pcall(d, "{"), pcall(d, "[1,]"), pcall(d, '{"a" 1}'), pcall(d, '{1:2}'))
p(pcall(d, "[1 2]"), pcall(d, "nul"), pcall(d, '"\\x"'), pcall(d, '"\\u12"'), pcall(d, '"\\ud800"'))
p(pcall(d, "1 2"), pcall(d, "[[[["), pcall(d, '"abc'), pcall(d, "\1"), pcall(d, "{}}"))
p(pcall(d), pcall(d, 1, 2), pcall(d, {}))
p(pcall(d, "1\0garbage"), pcall(d, "12\0garbage"), pcall(d, "\0x"))
p(pcall(d, "+1"), pcall(d, "01"), d("inf"), d("-Infinity"), tostring(d("nan")) ~= "1")
local nest = string.rep("[", 1001) .. string.rep("]", 1001)
p(pcall(d, nest))
local nest2 = string.rep("[", 999) .. string.rep("]", 999)
p(type(d(nest2)))
local obj = d('{"k1":1,"k2":2,"k3":3,"k4":4,"name":"x","list":[1,2]}')
local keys = {}
for k in pairs(obj) do keys[#keys + 1] = k end
table.sort(keys)
p(table.concat(keys, ","))
p(e(d('{"a":1,"b":[true,false,null],"c":"s"}')))
p(cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision(), cjson.encode_keep_buffer())
p(cjson.encode_sparse_array(), cjson.encode_invalid_numbers(), cjson.decode_invalid_numbers())
p(cjson.encode_number_precision(3), e(math.pi), cjson.encode_number_precision(14), e(math.pi))
p(pcall(cjson.encode_number_precision, 0), pcall(cjson.encode_number_precision, 15), pcall(cjson.encode_max_depth, 1, 2))
p(cjson.encode_sparse_array(true), e({[20] = 1}), cjson.encode_sparse_array(false, 2, 10))
p(cjson.encode_invalid_numbers(true), e(1 / 0), e(0 / 0) == "nan" or e(0 / 0), cjson.encode_invalid_numbers("null"), e({1 / 0}), cjson.encode_invalid_numbers(false))
p(cjson.encode_max_depth(2), pcall(e, {{{}}}), cjson.encode_max_depth(1000))
p(cjson.decode_max_depth(2), pcall(d, "[[[]]]"), cjson.decode_max_depth(1000))
p(pcall(cjson.encode_invalid_numbers, "bogus"))
p(cjson._NAME, cjson._VERSION, type(cjson.new), type(cjson.new().encode))
return table.concat(out, "\n")
