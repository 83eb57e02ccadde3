--- fcall keys and args
-- function:
-- run: FCALL f 2 k1 k2 a1 a2 a3 ;; FCALL f 0 a1 ;; FCALL f 0
#!lua name=lib
redis.register_function('f', function(keys, args) return {#keys, #args, keys, args} end)
--- fcall keys and args are the only parameters
-- function:
-- run: FCALL f 1 k a
#!lua name=lib
redis.register_function('f', function(...) return select('#', ...) end)
--- fcall KEYS global is not defined
-- function:
-- run: FCALL f 1 k a
#!lua name=lib
redis.register_function('f', function(keys, args) return KEYS[1] end)
--- fcall ARGV global is not defined
-- function:
-- run: FCALL f 1 k a
#!lua name=lib
redis.register_function('f', function(keys, args) return ARGV end)
--- fcall set and get keys
-- function:
-- run: FCALL set 1 k v ;; FCALL get 1 k ;; GET k
#!lua name=lib
redis.register_function('set', function(keys, args) return redis.call('set', keys[1], args[1]) end)
redis.register_function('get', function(keys, args) return redis.call('get', keys[1]) end)
--- fcall function name case insensitive
-- function:
-- run: FCALL MyFunc 0 ;; FCALL MYFUNC 0 ;; FCALL_RO myfunc 0
#!lua name=lib
redis.register_function{function_name='myfunc', callback=function() return 'hi' end, flags={'no-writes'}}
--- fcall unknown function
-- function:
-- run: FCALL nope 0 ;; FCALL_RO nope 0
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- fcall with no library loaded
-- function:
-- run: FCALL f 0 ;; FCALL_RO f 0
--- fcall wrong number of arguments
-- function:
-- run: FCALL ;; FCALL f ;; FCALL_RO ;; FCALL_RO f
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- fcall bad number of keys
-- function:
-- run: FCALL f bad ;; FCALL f 1.5 k ;; FCALL f '' ;; FCALL f ' 1' k ;; FCALL f 99999999999999999999
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- fcall bad number of keys with unknown function
-- function:
-- run: FCALL nope bad ;; FCALL nope -1 ;; FCALL nope 5
--- fcall negative number of keys
-- function:
-- run: FCALL f -1 ;; FCALL f -1 k ;; FCALL_RO f -9223372036854775808 k
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- fcall more keys than arguments
-- function:
-- run: FCALL f 2 k ;; FCALL f 1 ;; FCALL_RO f 3 a b
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- fcall_ro on a function without no-writes
-- function:
-- run: FCALL_RO f 1 x
#!lua name=lib
redis.register_function('f', function(keys) return redis.call('get', keys[1]) end)
--- fcall_ro with write command in no-writes function
-- function:
-- run: FCALL_RO f 1 x ;; EXISTS x
#!lua name=lib
redis.register_function{function_name='f', callback=function(keys) return redis.call('set', keys[1], '1') end, flags={'no-writes'}}
--- fcall with write command in no-writes function
-- function:
-- run: FCALL f 1 x ;; EXISTS x
#!lua name=lib
redis.register_function{function_name='f', callback=function(keys) return redis.call('set', keys[1], '1') end, flags={'no-writes'}}
--- fcall_ro with read command in no-writes function
-- function:
-- setup: SET x hello
-- run: FCALL_RO f 1 x ;; FCALL f 1 x
#!lua name=lib
redis.register_function{function_name='f', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}
--- fcall no-writes pcall of a write command
-- function:
-- run: FCALL_RO f 1 x
#!lua name=lib
redis.register_function{function_name='f', callback=function(keys) return redis.pcall('set', keys[1], '1') end, flags={'no-writes'}}
--- fcall with other flags runs normally
-- function:
-- run: FCALL f 1 x ;; GET x
#!lua name=lib
redis.register_function{function_name='f', callback=function(keys) return redis.call('set', keys[1], 'v') end, flags={'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}}
--- fcall script commands not allowed
-- function:
-- run: FCALL f 0 ;; FCALL g 0 ;; FCALL h 0
#!lua name=lib
redis.register_function('f', function() return redis.call('fcall', 'f', 0) end)
redis.register_function('g', function() return redis.call('eval', 'return 1', 0) end)
redis.register_function('h', function() return redis.call('function', 'list') end)
--- fcall script commands through pcall
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() return redis.pcall('function', 'flush') end)
--- fcall from eval is not allowed
-- function:
-- run: EVAL "return redis.call('fcall', 'f', 0)" 0 ;; EVAL "return redis.pcall('fcall_ro', 'f', 0)" 0
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- fcall unknown command
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() return redis.call('nosuchcommand') end)
--- fcall wrong arity inside
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() return redis.call('get') end)
--- fcall wrongtype inside
-- function:
-- setup: LPUSH l a
-- run: FCALL f 1 l ;; FCALL g 1 l
#!lua name=lib
redis.register_function('f', function(keys) return redis.call('get', keys[1]) end)
redis.register_function('g', function(keys) return redis.pcall('get', keys[1]) end)
--- fcall pcall returns error table
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function()
  local r = redis.pcall('incr', 'notanumber_key_with_string')
  local e = redis.pcall('nosuchcommand')
  return {type(e), e['err']}
end)
--- fcall error with a string
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() error('my error') end)
--- fcall error with a string without position
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() error('my error', 0) end)
--- fcall error with a table
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() error({err='MYERR custom message'}) end)
--- fcall error with a number
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() error(42) end)
--- fcall error_reply and status_reply
-- function:
-- run: FCALL e 0 ;; FCALL s 0 ;; FCALL p 0
#!lua name=lib
redis.register_function('e', function() return redis.error_reply('MY_ERR something wrong') end)
redis.register_function('s', function() return redis.status_reply('ALL_GOOD') end)
redis.register_function('p', function() return redis.error_reply('no code') end)
--- fcall runtime error
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() local t = nil return t.x end)
--- fcall assigning a global
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() x = 1 return x end)
--- fcall reading an unknown global
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() return unknown_thing end)
--- fcall standard libraries at run time
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function()
  return {math.floor(3.7), string.rep('ab', 3), table.concat({'a', 'b'}, '-'), cjson.encode({1, 2}), bit.band(7, 3), tostring(type(struct)), tostring(type(cmsgpack))}
end)
--- fcall redis api at run time
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function()
  return {redis.sha1hex(''), redis.REDIS_VERSION, redis.REDIS_VERSION_NUM, type(redis.call), type(redis.setresp), type(redis.register_function)}
end)
--- fcall integer replies
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() return {1, -1, 0, 3.99, -3.99, 1e15} end)
--- fcall string and nil replies
-- function:
-- run: FCALL s 0 ;; FCALL e 0 ;; FCALL n 0 ;; FCALL b 0
#!lua name=lib
redis.register_function('s', function() return 'hello' end)
redis.register_function('e', function() return '' end)
redis.register_function('n', function() return nil end)
redis.register_function('b', function() return 'a\0b\255' end)
--- fcall boolean replies
-- function:
-- run: FCALL t 0 ;; FCALL f 0 ;; FCALL a 0
#!lua name=lib
redis.register_function('t', function() return true end)
redis.register_function('f', function() return false end)
redis.register_function('a', function() return {true, false, 1} end)
--- fcall nested tables
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() return {1, {2, {3, {'four'}}}, {}, {ok='fine'}, {err='ERR inner'}} end)
--- fcall array stops at nil
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() return {1, 2, nil, 4} end)
--- fcall resp3 typed tables
-- function:
-- run: FCALL d 0 ;; FCALL m 0 ;; FCALL s 0 ;; FCALL b 0 ;; FCALL v 0
#!lua name=lib
redis.register_function('d', function() return {double=3.5} end)
redis.register_function('m', function() return {map={a=1}} end)
redis.register_function('s', function() return {set={x=true}} end)
redis.register_function('b', function() return {big_number='123456789012345678901234567890'} end)
redis.register_function('v', function() return {verbatim_string={format='txt', string='hello'}} end)
--- fcall setresp 3 conversions
-- function:
-- setup: HSET h f1 v1 ;; SADD s m1 ;; ZADD z 1.5 m
-- run: FCALL f 3 h s z
#!lua name=lib
redis.register_function('f', function(keys)
  redis.setresp(3)
  return {redis.call('hgetall', keys[1]), redis.call('smembers', keys[2]), redis.call('zincrby', keys[3], '1', 'm'), redis.call('zscore', keys[3], 'm'), redis.call('exists', keys[3]), redis.call('get', 'missing'), 'not reached'}
end)
--- fcall setresp 3 types seen in lua
-- function:
-- setup: HSET h f1 v1 ;; SADD s m1
-- run: FCALL f 2 h s
#!lua name=lib
redis.register_function('f', function(keys)
  redis.setresp(3)
  local h = redis.call('hgetall', keys[1])
  local s = redis.call('smembers', keys[2])
  local n = redis.call('get', 'missing')
  return {type(h), type(h['map']), h['map']['f1'], type(s['set']), tostring(s['set']['m1']), tostring(n)}
end)
--- fcall setresp 2 conversions
-- function:
-- setup: HSET h f1 v1
-- run: FCALL f 1 h
#!lua name=lib
redis.register_function('f', function(keys)
  redis.setresp(2)
  return {redis.call('hgetall', keys[1]), redis.call('get', 'missing')}
end)
--- fcall setresp bad arguments
-- function:
-- run: FCALL a 0 ;; FCALL b 0 ;; FCALL c 0
#!lua name=lib
redis.register_function('a', function() return redis.setresp(4) end)
redis.register_function('b', function() return redis.setresp() end)
redis.register_function('c', function() return redis.setresp('x') end)
--- fcall setresp does not leak to the next call
-- function:
-- setup: HSET h f1 v1
-- run: FCALL a 1 h ;; FCALL b 1 h
#!lua name=lib
redis.register_function('a', function(keys) redis.setresp(3) return redis.call('hgetall', keys[1]) end)
redis.register_function('b', function(keys) return redis.call('hgetall', keys[1]) end)
--- fcall set_repl at run time
-- function:
-- run: FCALL f 0 ;; FCALL g 0
#!lua name=lib
redis.register_function('f', function() redis.set_repl(redis.REPL_ALL) return redis.REPL_ALL end)
redis.register_function('g', function() return redis.set_repl(99) end)
--- fcall null replies from commands
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() return {redis.call('get', 'nokey'), redis.call('lpop', 'nolist'), 'end'} end)
--- fcall status and integer replies from commands
-- function:
-- run: FCALL f 1 k
#!lua name=lib
redis.register_function('f', function(keys) return {redis.call('set', keys[1], 'v'), redis.call('incr', 'cnt'), redis.call('ping'), redis.call('type', keys[1])} end)
--- fcall returns a command status directly
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() return redis.call('ping') end)
--- fcall function state persists between calls
-- function:
-- run: FCALL f 0 ;; FCALL f 0 ;; FCALL f 0
#!lua name=lib
local calls = 0
redis.register_function('f', function() calls = calls + 1 return calls end)
--- fcall functions in different libraries do not share locals
-- function:
-- run: FCALL f1 0 ;; FCALL f2 0
#!lua name=lib1
local v = 'one'
redis.register_function('f1', function() return v end)
-- load:
#!lua name=lib2
local v = 'two'
redis.register_function('f2', function() return v end)
--- fcall deep recursion error
-- function:
-- run: FCALL f 0
#!lua name=lib
local function r(n) return r(n + 1) + 1 end
redis.register_function('f', function() return r(0) end)
--- fcall string conversion of numbers passed as args
-- function:
-- run: FCALL f 0 10 3.5 abc
#!lua name=lib
redis.register_function('f', function(keys, args) return {type(args[1]), tonumber(args[1]) + 1, tonumber(args[2]) * 2, tonumber(args[3])} end)
--- fcall binary keys and args
-- function:
-- run: FCALL f 1 "k\\x00\\xff" "a\\r\\nb"
#!lua name=lib
redis.register_function('f', function(keys, args) return {keys[1], #keys[1], args[1], #args[1]} end)
--- fcall setresp 3 booleans and doubles from lua
-- function:
-- run: FCALL f 0 ;; FCALL g 0
#!lua name=lib
redis.register_function('f', function() redis.setresp(3) return {true, false, {double = 1.5}} end)
redis.register_function('g', function() redis.setresp(3) return false end)
--- fcall setresp 2 booleans from lua
-- function:
-- run: FCALL f 0
#!lua name=lib
redis.register_function('f', function() redis.setresp(2) return {true, false, 7} end)
