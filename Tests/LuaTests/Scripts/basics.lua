-- Arithmetic, coercion, comparison, concatenation, number formatting.
print(1 + 2, 7 - 10, 3 * 4, 7 / 2, 7 % 3, -7 % 3, 7 % -3, 2 ^ 10, -2 ^ 2, 5 % 0, -5 % 0)
print(1 / 0, -1 / 0, 0 / 0 ~= 0 / 0, math.huge == 1 / 0)
print("10" + 1, "0x10" + 0, "1e1" * 2, " 5 " + 1, "3" .. 4, 1 .. 2, 1.5 .. "")
print(10 == "10", "abc" < "abd", "a" < "b", "Z" < "a", "" < "a", "abc" <= "abc", 2 < 10, "2" < "10")
print(not nil, not 0, not "", nil and 1, false or "x", 1 and 2, nil or false, false and nil)
print(100000000000000, 1e15, 123456789012345678, 0.1 + 0.2, 1 / 3, -0.0, 2 ^ 53, 2 ^ 63, 1e300 * 1e10)
print(3.14159265358979, 1e-5, 123.456e2, 5e-324, 2 ^ -1074, 0xff, 0XA, 1e+2, .5, 5., 3e0)
print(tostring(12), tostring(-12.5), tostring(1e100), tonumber("12abc"), tonumber(""), tonumber("  "), tonumber("1e"))
print(tonumber("10", 2), tonumber("ff", 16), tonumber("zz", 36), tonumber("8", 8), tonumber(" 11 ", 2), tonumber("-ff", 16))
print(tonumber(nil) == nil, pcall(tonumber), tonumber("5", 10), tonumber(5), tonumber("inf"), tonumber("nan") ~= tonumber("nan"))
print(#"", #"abc", #"\0\1\2", "\65\066\x", "a\tb", "\\", '\'', "\"", [[
line1
line2]], [==[a]]b]==])
print(2 ^ 0.5, math.floor(10.7), math.ceil(-0.5))
