--- register positional form
-- function:
-- run: FCALL f 0 ;; FUNCTION LIST
#!lua name=lib
redis.register_function('f', function(keys, args) return 'ok' end)
--- register no arguments
-- function:
#!lua name=lib
redis.register_function()
--- register only a name
-- function:
#!lua name=lib
redis.register_function('f')
--- register too many arguments
-- function:
#!lua name=lib
redis.register_function('f', function() return 1 end, 'extra')
--- register number as name
-- function:
-- run: FCALL 123 0 ;; FUNCTION LIST
#!lua name=lib
redis.register_function(123, function() return 1 end)
--- register nil name
-- function:
#!lua name=lib
redis.register_function(nil, function() return 1 end)
--- register table name
-- function:
#!lua name=lib
redis.register_function({}, function() return 1 end)
--- register name not a function
-- function:
#!lua name=lib
redis.register_function('f', 'not a function')
--- register empty name
-- function:
#!lua name=lib
redis.register_function('', function() return 1 end)
--- register name with a dash
-- function:
#!lua name=lib
redis.register_function('a-b', function() return 1 end)
--- register name with a space
-- function:
#!lua name=lib
redis.register_function('a b', function() return 1 end)
--- register name with a nul byte
-- function:
#!lua name=lib
redis.register_function('a\0b', function() return 1 end)
--- register duplicate function in the library
-- function:
#!lua name=lib
redis.register_function('f', function() return 1 end)
redis.register_function('f', function() return 2 end)
--- register same name in other case in the library
-- function:
-- run: @sorted FUNCTION LIST ;; FUNCTION STATS
#!lua name=lib
-- No FCALL f: both names go to Redis's case-insensitive function index,
-- and which one wins depends on the library dict's (seeded) hash order.
redis.register_function('f', function() return 1 end)
redis.register_function('F', function() return 2 end)
--- register single argument not a table
-- function:
#!lua name=lib
redis.register_function('f')
--- register single function argument
-- function:
#!lua name=lib
redis.register_function(function() return 1 end)
--- register named arguments
-- function:
-- run: FCALL f 0 ;; FUNCTION LIST
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 'named' end}
--- register named arguments with description
-- function:
-- run: FUNCTION LIST
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, description='some description'}
--- register named arguments with empty description
-- function:
-- run: FUNCTION LIST
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, description=''}
--- register named arguments with every flag
-- function:
-- run: FUNCTION LIST
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, flags={'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}}
--- register named arguments with flags in reverse order
-- function:
-- run: FUNCTION LIST
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, flags={'allow-cross-slot-keys', 'no-cluster', 'allow-stale', 'allow-oom', 'no-writes'}}
--- register named arguments with upper case flags
-- function:
-- run: FUNCTION LIST
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, flags={'NO-WRITES', 'Allow-Oom'}}
--- register named arguments with repeated flag
-- function:
-- run: FUNCTION LIST
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, flags={'no-writes', 'no-writes'}}
--- register named arguments with empty flags
-- function:
-- run: FUNCTION LIST
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, flags={}}
--- register named arguments with unknown flag
-- function:
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, flags={'unknown'}}
--- register named arguments with no-script flag
-- function:
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, flags={'no-script'}}
--- register named arguments with number flag
-- function:
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, flags={1}}
--- register named arguments with table flag
-- function:
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, flags={{}}}
--- register named arguments with string flags
-- function:
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, flags='no-writes'}
--- register named arguments with flags in the hash part
-- function:
-- run: FUNCTION LIST
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, flags={a='no-writes'}}
--- register named arguments with unknown key
-- function:
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, some_unknown='unknown'}
--- register named arguments with upper case keys
-- function:
-- run: FUNCTION LIST
#!lua name=lib
redis.register_function{FUNCTION_NAME='f', CallBack=function() return 1 end, DESCRIPTION='d'}
--- register named arguments with number key
-- function:
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, [1]='x'}
--- register named arguments with table key
-- function:
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, [{}]='x'}
--- register named arguments missing function name
-- function:
#!lua name=lib
redis.register_function{callback=function() return 1 end}
--- register named arguments missing callback
-- function:
#!lua name=lib
redis.register_function{function_name='f'}
--- register named arguments bad function name type
-- function:
#!lua name=lib
redis.register_function{function_name={}, callback=function() return 1 end}
--- register named arguments bad function name
-- function:
#!lua name=lib
redis.register_function{function_name='a-b', callback=function() return 1 end}
--- register named arguments bad callback type
-- function:
#!lua name=lib
redis.register_function{function_name='f', callback='bad'}
--- register named arguments bad description type
-- function:
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, description=function() end}
--- register named arguments number description
-- function:
-- run: FUNCTION LIST
#!lua name=lib
redis.register_function{function_name='f', callback=function() return 1 end, description=42}
--- register named arguments empty table
-- function:
#!lua name=lib
redis.register_function{}
--- register failure reverts the whole load
-- function:
-- run: FUNCTION LIST ;; FCALL f1 0
#!lua name=lib
redis.register_function('f1', function() return 1 end)
redis.register_function('f2', 'bad')
--- register through a local alias
-- function:
-- run: FCALL f 0
#!lua name=lib
local r = redis
local reg = r.register_function
reg('f', function() return 'alias' end)
--- register from a function at run time
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() redis.register_function('g', function() return 1 end) end)
--- register from a saved reference at run time
-- function:
-- run: FCALL f 0
#!lua name=lib
local reg = redis.register_function
redis.register_function('f', function() reg('g', function() return 1 end) end)
--- register callback is a C function
-- function:
-- run: FUNCTION LIST
#!lua name=lib
redis.register_function('f', redis.log)
--- register same name in other case then delete the library
-- function:
-- run: FUNCTION DELETE cased ;; FUNCTION LIST ;; FCALL f 0 ;; FUNCTION STATS
-- resp: 2
-- expect: $5\r\ncased\r\n+OK\r\n*0\r\n-ERR Function not found\r\n*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:0\r\n$15\r\nfunctions_count\r\n:0\r\n
-- why: Redis 7.0.15 crashes here (ASSERTION FAILED in libraryUnlink: the second dictDelete of 'f'/'F' from the case-insensitive function index fails); lunakv deletes the library
#!lua name=cased
redis.register_function('f', function() return 1 end)
redis.register_function('F', function() return 2 end)
