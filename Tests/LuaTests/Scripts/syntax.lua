-- Compile errors (loadstring) with Lua 5.1's texts.
local cases = {
  "x = ", "x = = 1", "local 1 = 2", "if x then", "for i = 1 do end", "function f( end",
  "return return", "x = 'unfinished", "x = \"abc\ndef\"", "x = [[never", "--[[ open comment",
  "x = 1 +", "f(", "a.b:c = 1", "x = }", "local t = {1, 2", "while true do", "repeat until",
  "break", "return 1; x = 2", "x = 0x", "x = 1e", "x = 3..4", "x = '\\400'", "(f)", "a, b",
  "local function end", "x = ...", "function f() return ... end", "goto x", "x = #", "::lbl::",
  "local a <const> = 1", "x = y z", "f() = 1", "x = {a = }", "do end end", "elseif", "x = 1 2",
  "x = [==[ a ]=]", "x = [=x", "\0", "x = '\\q'", "a = function(...) local arg end", "for a, b, in x do end",
  string.rep("(", 300) .. "1" .. string.rep(")", 300), "x = " .. string.rep("{", 250) .. string.rep("}", 250),
  "local " .. string.rep("a, ", 210) .. "b = 1",
}
for _, src in ipairs(cases) do
  local f, err = loadstring(src)
  print(f and "compiled" or err)
end
print(loadstring("return 1", "=named")())
print(select(2, loadstring("x=", "=named")))
print(select(2, loadstring("x=", "@file.lua")))
print(select(2, loadstring("x=\n\n=", "a very long chunk name that goes on and on and on and on and on and on")))
print(select(2, loadstring("x=")))
print(select(2, loadstring("local x = 1\nx = =")))
print(loadstring("return ...")(1, 2))
local f = loadstring("local a, b = ...; return a + b")
print(f(3, 4))
print(type(load(function() return nil end)))
local parts = {"return ", "1 + ", "2"}
local i = 0
print(load(function() i = i + 1; return parts[i] end)())
print(pcall(load, function() return {} end))
