--- load basic
-- function:
-- run: FCALL test 0 ;; FCALL TEST 0 ;; FUNCTION LIST
#!lua name=test
redis.register_function('test', function(keys, args) return 'hello' end)
--- load engine name in upper case
-- function:
-- run: FUNCTION LIST
#!LUA name=test
redis.register_function('test', function(keys, args) return 'hello' end)
--- load engine name in mixed case
-- function:
-- run: FCALL test 0
#!LuA name=test
redis.register_function('test', function(keys, args) return 'hello' end)
--- load name key in upper case
-- function:
-- run: FUNCTION LIST
#!lua NAME=test
redis.register_function('test', function(keys, args) return 'hello' end)
--- load library name with quotes
-- function:
-- run: FUNCTION LIST
#!lua name="foo"
redis.register_function('foo', function() return 1 end)
--- load library name with single quotes
-- function:
-- run: FUNCTION LIST
#!lua name='foo'
redis.register_function('foo', function() return 1 end)
--- load library name with underscore and digits
-- function:
-- run: FUNCTION LIST LIBRARYNAME *9
#!lua name=_lib_09
redis.register_function('f', function() return 1 end)
--- load library name with a dash
-- function:
#!lua name=bad-name
redis.register_function('f', function() return 1 end)
--- load library name with a dot
-- function:
#!lua name=bad.name
redis.register_function('f', function() return 1 end)
--- load library name empty
-- function:
#!lua name=
redis.register_function('f', function() return 1 end)
--- load library name with a nul byte
-- function:
-- run: FUNCTION LOAD "#!lua name=bad\\0format\\nredis.register_function('f', function() return 1 end)"
--- load library name missing
-- function:
#!lua
redis.register_function('f', function() return 1 end)
--- load library name given twice
-- function:
#!lua name=a name=b
redis.register_function('f', function() return 1 end)
--- load unknown metadata value
-- function:
#!lua name=test foo=bar
redis.register_function('f', function() return 1 end)
--- load metadata value without equal sign
-- function:
#!lua name=test foo
redis.register_function('f', function() return 1 end)
--- load unknown engine
-- function:
#!bad_engine name=test
redis.register_function('f', function() return 1 end)
--- load empty engine
-- function:
#! name=test
redis.register_function('f', function() return 1 end)
--- load engine with a space before name only
-- function:
#!lua   name=test
redis.register_function('f', function() return 1 end)
--- load missing shebang
-- function:
redis.register_function('f', function() return 1 end)
--- load shebang without newline
-- function:
#!lua name=test
--- load shebang with unbalanced quotes
-- function:
#!lua name="test
redis.register_function('f', function() return 1 end)
--- load only a shebang and a newline
-- function:
-- run: FUNCTION LOAD "#!lua name=test\\n"
--- load empty code
-- function:
-- run: FUNCTION LOAD ""
--- load hash but no bang
-- function:
#lua name=test
redis.register_function('f', function() return 1 end)
--- load with unknown option
-- function:
-- run: FUNCTION LOAD foo "#!lua name=test\\nredis.register_function('f', function() return 1 end)"
--- load with two unknown options
-- function:
-- run: FUNCTION LOAD foo bar "#!lua name=test\\nredis.register_function('f', function() return 1 end)"
--- load with replace in lower case
-- function: replace
#!lua name=test
redis.register_function('f', function() return 1 end)
--- load with replace twice
-- function: REPLACE REPLACE
#!lua name=test
redis.register_function('f', function() return 1 end)
--- load with no code
-- function:
-- run: FUNCTION LOAD
--- load with only replace
-- function:
-- run: FUNCTION LOAD REPLACE
--- load existing library
-- function:
-- run: FCALL f 0
#!lua name=test
redis.register_function('f', function() return 1 end)
-- load:
#!lua name=test
redis.register_function('f', function() return 2 end)
--- load existing library with other case is another library
-- function:
-- run: @sorted FUNCTION LIST
#!lua name=test
redis.register_function('f', function() return 1 end)
-- load:
#!lua name=TEST
redis.register_function('g', function() return 2 end)
--- load replace
-- function:
-- run: FCALL f 0 ;; FUNCTION LIST WITHCODE
#!lua name=test
redis.register_function('f', function() return 1 end)
-- load: REPLACE
#!lua name=test
redis.register_function('f', function() return 2 end)
--- load replace removes old functions
-- function:
-- run: FCALL f 0 ;; FCALL g 0 ;; FUNCTION STATS
#!lua name=test
redis.register_function('f', function() return 1 end)
-- load: REPLACE
#!lua name=test
redis.register_function('g', function() return 2 end)
--- load replace failure keeps old library
-- function:
-- run: FCALL f 0 ;; FUNCTION LIST WITHCODE
#!lua name=test
redis.register_function('f', function() return 1 end)
-- load: REPLACE
#!lua name=test
bad script
--- load replace of a missing library
-- function: REPLACE
-- run: FCALL f 0
#!lua name=test
redis.register_function('f', function() return 1 end)
--- load syntax error
-- function:
#!lua name=test
bad script
--- load syntax error on a later line
-- function:
#!lua name=test
redis.register_function('f', function() return 1 end)

local x = = 2
--- load unfinished function
-- function:
#!lua name=test
redis.register_function('f', function() return 1
--- load error function is not available
-- function:
#!lua name=test
error('boom')
--- load runtime error in arithmetic
-- function:
#!lua name=test
local x = nil
local y = x + 1
--- load runtime error calling nil
-- function:
#!lua name=test
local f
f()
--- load runtime error after registering
-- function:
-- run: FUNCTION LIST
#!lua name=test
redis.register_function('f', function() return 1 end)
local t = nil
t.x = 1
--- load registering nothing
-- function:
#!lua name=test
local a = 1
--- load returning a value registers nothing
-- function:
#!lua name=test
return 1
--- load redis.call at load time
-- function:
#!lua name=test
return redis.call('ping')
--- load redis.pcall at load time
-- function:
#!lua name=test
return redis.pcall('ping')
--- load redis.setresp at load time
-- function:
#!lua name=test
redis.setresp(3)
--- load redis.set_repl at load time
-- function:
#!lua name=test
redis.set_repl(redis.REPL_NONE)
--- load math at load time
-- function:
#!lua name=test
return math.random()
--- load global assignment
-- function:
#!lua name=test
a = 1
--- load unknown global read
-- function:
#!lua name=test
local a = some_global
--- load redis.log at load time
-- function:
-- run: FCALL f 0
#!lua name=test
redis.log(redis.LOG_WARNING, 'loading')
redis.register_function('f', function() return 1 end)
--- load redis.log without message
-- function:
#!lua name=test
redis.log(redis.LOG_WARNING)
--- load redis version at load time
-- function:
-- run: FCALL f 0
#!lua name=test
local v = redis.REDIS_VERSION
local n = redis.REDIS_VERSION_NUM
redis.register_function('f', function() return {v, n} end)
--- load redis table is read only
-- function:
#!lua name=test
redis.foo = 1
--- load getmetatable at load time
-- function:
#!lua name=test
local m = getmetatable(_G)
--- load timeout
-- function:
#!lua name=test
local a = 1 while true do a = a + 1 end
--- load failure leaves nothing behind
-- function:
-- run: FUNCTION LIST ;; FUNCTION STATS ;; FCALL f 0
#!lua name=test
redis.register_function('f', function() return 1 end)
error('boom')
--- load function name collision with another library
-- function:
-- run: FUNCTION LIST LIBRARYNAME lib2 ;; FCALL f 0
#!lua name=lib1
redis.register_function('f', function() return 1 end)
-- load:
#!lua name=lib2
redis.register_function('g', function() return 2 end)
redis.register_function('f', function() return 3 end)
--- load function name collision in other case
-- function:
-- run: FCALL F 0
#!lua name=lib1
redis.register_function('f', function() return 1 end)
-- load:
#!lua name=lib2
redis.register_function('F', function() return 3 end)
--- load replace with collision keeps old library
-- function:
-- run: FCALL g 0 ;; FCALL f 0
#!lua name=lib1
redis.register_function('f', function() return 1 end)
-- load:
#!lua name=lib2
redis.register_function('g', function() return 2 end)
-- load: REPLACE
#!lua name=lib2
redis.register_function('f', function() return 3 end)
--- load many functions and stats
-- function:
-- run: FUNCTION STATS ;; FCALL f3 0
#!lua name=test
for i = 1, 5 do
  redis.register_function('f' .. i, function() return i end)
end
--- load local helpers shared by functions
-- function:
-- run: FCALL inc 0 ;; FCALL inc 0 ;; FCALL get 0
#!lua name=test
local counter = 0
local function bump() counter = counter + 1 return counter end
redis.register_function('inc', function() return bump() end)
redis.register_function('get', function() return counter end)
--- load binary chunk rejected
-- function:
-- run: FUNCTION LOAD "#!lua name=test\\n\\x1bLua"
--- load code with crlf shebang
-- function:
-- run: FUNCTION LOAD "#!lua name=test\\r\\nredis.register_function('f', function() return 1 end)"
