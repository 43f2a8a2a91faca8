-- Compile and run a one-line script 20k times (what EVAL costs the first time it sees a body).
local KEYS, ARGV = {"k"}, {"v"}
local calls = 0
local env = setmetatable({redis = {call = function(...) calls = calls + 1; return "OK" end}, KEYS = KEYS, ARGV = ARGV}, {__index = _G})
for i = 1, 20000 do
  local f = loadstring("return redis.call('set',KEYS[1],ARGV[1])")
  setfenv(f, env)
  f()
end
print(calls)
