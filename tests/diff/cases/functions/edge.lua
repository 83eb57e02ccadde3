--- edge shebang with a tab separator
-- function:
-- run: FUNCTION LOAD "#!lua\\tname=tabbed\\nredis.register_function('f', function() return 1 end)" ;; FUNCTION LIST
--- edge shebang name in double quotes with hex escape
-- function:
-- run: FUNCTION LIST
#!lua "name=\x41bc"
redis.register_function('f', function() return 1 end)
--- edge shebang closing quote followed by text
-- function:
#!lua name="foo"bar
redis.register_function('f', function() return 1 end)
--- edge shebang with only the engine and spaces
-- function:
#!lua   
redis.register_function('f', function() return 1 end)
--- edge shebang bang only
-- function:
#!
redis.register_function('f', function() return 1 end)
--- edge load option after the code
-- function:
-- run: FUNCTION LOAD "#!lua name=x\\nredis.register_function('f', function() return 1 end)" REPLACE
--- edge error reply with newlines
-- function:
-- run: FCALL a 0 ;; FCALL b 0 ;; FCALL c 0
#!lua name=lib
redis.register_function('a', function() return redis.error_reply('ERR line1\nline2\r\nline3') end)
redis.register_function('b', function() error({err='MYERR x\ny'}) end)
redis.register_function('c', function() return redis.status_reply('ok\r\nthen') end)
--- edge error_reply and status_reply argument errors
-- function:
-- run: FCALL a 0 ;; FCALL b 0 ;; FCALL c 0 ;; FCALL d 0
#!lua name=lib
redis.register_function('a', function() return redis.error_reply() end)
redis.register_function('b', function() return redis.status_reply({}) end)
redis.register_function('c', function() return redis.error_reply('') end)
redis.register_function('d', function() return redis.status_reply(42) end)
--- edge pcall error returned as reply
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() return redis.pcall('get') end)
--- edge redis.call with bad argument types
-- function:
-- run: FCALL a 0 ;; FCALL b 0 ;; FCALL c 0 ;; FCALL d 0
#!lua name=lib
redis.register_function('a', function() return redis.call('set', 'k', {}) end)
redis.register_function('b', function() return redis.call() end)
redis.register_function('c', function() return redis.call('set', 'k', 3.5) end)
redis.register_function('d', function() return redis.pcall('set', 'k', nil) end)
--- edge lua table with array and hash parts
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() return {1, 2, a = 3, [5] = 5} end)
--- edge returning a function value
-- function:
-- run: FCALL f 0 ;; FCALL g 0
#!lua name=lib
redis.register_function('f', function() return function() end end)
redis.register_function('g', function() return {1, function() end, 3} end)
--- edge large and special numbers
-- function:
-- run: FCALL f 0 ;; FCALL g 0
#!lua name=lib
redis.register_function('f', function() return {1e20, -1e20, 2^53, 0.5} end)
redis.register_function('g', function() return {{double = 1/0}, {double = -1/0}, {double = 0.1}, {double = 1e300}} end)
--- edge double reply nan
-- function:
-- run: FCALL g 0
#!lua name=lib
redis.register_function('g', function() return {double = 0/0} end)
--- edge acl_check_cmd
-- function:
-- run: FCALL f 0 ;; FCALL g 0 ;; FCALL h 0
#!lua name=lib
redis.register_function('f', function() return {redis.acl_check_cmd('set', 'k', 'v'), redis.acl_check_cmd('get', 'k')} end)
redis.register_function('g', function() return redis.acl_check_cmd('nosuchcommand') end)
redis.register_function('h', function() return redis.acl_check_cmd() end)
--- edge eval only debugger api is absent in functions
-- function:
-- run: FCALL f 0 ;; FCALL g 0
#!lua name=lib
redis.register_function('f', function() return {type(redis.breakpoint), type(redis.debug), type(redis.replicate_commands)} end)
redis.register_function('g', function() return redis.breakpoint() end)
--- edge coroutines inside a function
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function()
  local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
  return {co(1), co(10)}
end)
--- edge redis.call inside a coroutine
-- function:
-- run: FCALL f 1 k
#!lua name=lib
redis.register_function('f', function(keys)
  local co = coroutine.create(function() return redis.call('incr', keys[1]) end)
  local ok, v = coroutine.resume(co)
  return {tostring(ok), v}
end)
--- edge loadstring is available but dofile is not
-- function:
-- run: FCALL f 0 ;; FCALL g 0
#!lua name=lib
redis.register_function('f', function() return type(loadstring) end)
redis.register_function('g', function() return type(dofile) end)
--- edge function sees the full redis api but not load api
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() return {type(redis.pcall), type(redis.log), type(redis.register_function), type(redis.setresp), type(redis.set_repl), type(redis.sha1hex)} end)
--- edge getmetatable of globals at run time
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() local m = getmetatable(_G) return type(m) end)
--- edge modify redis table at run time
-- function:
-- run: FCALL f 0 ;; FCALL g 0
#!lua name=lib
redis.register_function('f', function() redis.call = nil return 1 end)
redis.register_function('g', function() return redis.call('ping') end)
--- edge command getkeys on fcall
-- function:
-- run: COMMAND GETKEYS FCALL f 2 a b c ;; COMMAND GETKEYS FCALL_RO f 1 a b ;; COMMAND GETKEYS FCALL f 0 a
--- edge description with binary and newline
-- function:
-- run: FUNCTION LIST
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, description='line1\nline2\0end'}
--- edge long library of many functions sorted client side
-- function:
-- run: @sorted FUNCTION LIST ;; FUNCTION STATS ;; FCALL f17 0 ;; FCALL_RO f18 0
#!lua name=lib
for i = 1, 20 do
  local flags = {}
  if i % 2 == 0 then flags = {'no-writes'} end
  redis.register_function{function_name='f' .. i, callback=function() return i end, flags=flags, description='function ' .. i}
end
--- edge write to a key then read it in another function
-- function:
-- run: FCALL w 1 {t}k abc ;; FCALL_RO r 1 {t}k ;; FCALL_RO r 1 missing ;; TYPE {t}k
#!lua name=lib
redis.register_function('w', function(keys, args) return redis.call('append', keys[1], args[1]) end)
redis.register_function{function_name='r', callback=function(keys) return redis.call('strlen', keys[1]) end, flags={'no-writes'}}
--- edge function using all argument positions
-- function:
-- run: FCALL f 3 a b c 1 2 3 4
#!lua name=lib
redis.register_function('f', function(keys, args)
  local out = {}
  for i, k in ipairs(keys) do out[#out + 1] = k .. '=' .. args[i] end
  out[#out + 1] = args[#args]
  return out
end)
--- edge keys and args tables are fresh on every call
-- function:
-- run: FCALL f 1 k a ;; FCALL f 1 k a
#!lua name=lib
redis.register_function('f', function(keys, args) keys[5] = 'x' args.extra = 1 return {#keys, #args} end)
