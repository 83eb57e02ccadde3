--- sha1hex empty
return redis.sha1hex('')
--- sha1hex text
return redis.sha1hex('Pizza & Mandolino')
--- sha1hex number
return redis.sha1hex(123)
--- sha1hex without argument
return redis.sha1hex()
--- call without arguments
return redis.call()
--- pcall without arguments
return redis.pcall()
--- call with table argument
return redis.call('GET', {})
--- pcall with table argument
return redis.pcall('GET', {})
--- call with nil argument
return redis.call('GET', nil)
--- call with boolean argument
return redis.call('SET', 'k', true)
--- call unknown command
return redis.call('NOSUCHCOMMAND')
--- pcall unknown command
return redis.pcall('NOSUCHCOMMAND')
--- call wrong arity
return redis.call('GET')
--- pcall wrong arity
return redis.pcall('GET', 'a', 'b')
--- call noscript command
return redis.call('MULTI')
--- pcall noscript command
return redis.pcall('EVAL', 'return 1', 0)
--- call blpop is non blocking
return redis.call('BLPOP', 'nolist', 0)
--- error from call propagates
-- setup: SET s abc
return redis.call('INCR', 's')
--- error from call in nested function
-- setup: SET s abc
local function f() return redis.call('INCR', 's') end return f()
--- pcall error table fields
-- setup: SET s abc
local e = redis.pcall('INCR', 's'); return e['err']
--- pcall ok value
return redis.pcall('PING')
--- call ping
return redis.call('ping')
--- call ping with message
return redis.call('ping', 'hi')
--- call echo
return redis.call('echo', 'x y')
--- call mixed case
return redis.call('SeT', 'k', 'v')
--- setresp invalid
return redis.setresp(4)
--- setresp no argument
return redis.setresp()
--- set_repl invalid
return redis.set_repl(42)
--- set_repl all
redis.set_repl(redis.REPL_ALL); return 1
--- set_repl constants
return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}
--- log constants
return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}
--- log returns nothing
return redis.log(redis.LOG_WARNING, 'hello from the corpus')
--- log bad level
return redis.log(99, 'x')
--- log without message
return redis.log(redis.LOG_NOTICE)
--- replicate_commands
return redis.replicate_commands()
--- breakpoint outside debugger
return redis.breakpoint()
--- debug outside debugger
return redis.debug('x')
--- redis version
return redis.REDIS_VERSION
--- redis version num
return redis.REDIS_VERSION_NUM
--- error_reply table shape
local t = redis.error_reply('X y'); return {type(t), t.err}
--- status_reply table shape
local t = redis.status_reply('Y'); return {type(t), t.ok}
--- error_reply with non string
return redis.error_reply(42)
--- status_reply with non string
return redis.status_reply({})
--- call returns to pcall ok
local ok, v = pcall(function() return redis.call('GET', 'k') end); return {tostring(ok), tostring(v)}
--- pcall catches call error
-- setup: SET s abc
local ok, e = pcall(function() return redis.call('INCR', 's') end); return {tostring(ok), type(e)}
--- select inside script
redis.call('SELECT', 5); redis.call('SET', 'x', 'in5'); return redis.call('GET', 'x')
--- type command in script
-- setup: SET s abc
return redis.call('TYPE', 's')
--- exists in script
-- setup: SET a 1
return redis.call('EXISTS', 'a', 'b', 'a')
--- keys in script
-- setup: SET a 1 ;; SET b 2
local t = redis.call('KEYS', '*'); table.sort(t); return t
--- incr counter loop
for i = 1, 100 do redis.call('INCR', 'c') end return redis.call('GET', 'c')
--- setex and ttl in script
redis.call('SETEX', 'k', 100, 'v'); return redis.call('TTL', 'k')
--- many return values
local t = {} for i = 1, 1000 do t[i] = i end return t
--- unpack many args
local t = {} for i = 1, 100 do t[i] = 'k' .. i end return redis.call('DEL', unpack(t))
--- acl_check_cmd allowed
return redis.acl_check_cmd('GET', 'x')
--- acl_check_cmd unknown
return redis.acl_check_cmd('NOSUCH')
