--- lua integer
return 100
--- lua negative integer
return -42
--- lua float truncated
return 3.99
--- lua negative float truncated
return -3.99
--- lua huge float
return 1e18
--- lua string
return 'hello'
--- lua empty string
return ''
--- lua binary string
return 'a\0b\255'
--- lua true
return true
--- lua false
return false
--- lua nil
return nil
--- lua empty table
return {}
--- lua array
return {1, 2, 3}
--- lua mixed array
return {1, 'two', 3.5, true, false}
--- lua array stops at nil
return {1, 2, nil, 4}
--- lua nested arrays
return {1, {2, {3, {4}}}}
--- lua table with hash part only
return {a = 1, b = 2}
--- lua status table
return {ok = 'FINE'}
--- lua error table
return {err = 'MYERR something'}
--- lua error table without code
return {err = 'no code here'}
--- lua status_reply
return redis.status_reply('STATUS')
--- lua error_reply
return redis.error_reply('CUSTOM problem')
--- lua error_reply plain
return redis.error_reply('oops')
--- lua array of status tables
return {{ok = 'a'}, {err = 'ERR b'}, 3}
--- lua double table
return {double = 3.14}
--- lua double table integer
return {double = 2}
--- lua map table
return {map = {a = 1}}
--- lua set table
return {set = {a = true}}
--- lua big number table
return {big_number = '123456789012345678901234567890'}
--- lua verbatim table
return {verbatim_string = {format = 'txt', string = 'hello'}}
--- setresp 3 then return double
redis.setresp(3); return {double = 0.5}
--- KEYS and ARGV
-- keys: k1 k2
-- args: a1 a2 a3
return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], #KEYS, #ARGV}
--- ARGV numbers are strings
-- args: 10 20
return type(ARGV[1]) .. ' ' .. (ARGV[1] + ARGV[2])
--- redis integer to lua
-- keys: n
-- setup: SET n 41
return type(redis.call('INCR', KEYS[1]))
--- redis bulk to lua
-- keys: s
-- setup: SET s hello
local v = redis.call('GET', KEYS[1]); return {type(v), v}
--- redis nil bulk to lua
return type(redis.call('GET', 'missing'))
--- redis nil bulk is false
return redis.call('GET', 'missing') == false
--- redis status to lua
local r = redis.call('SET', 'x', 'y'); return {type(r), r.ok}
--- redis status passthrough
return redis.call('SET', 'x', 'y')
--- redis error to lua via pcall
-- setup: SET s abc
local r = redis.pcall('INCR', 's'); return {type(r), r.err}
--- redis error passthrough
-- setup: SET s abc
return redis.pcall('INCR', 's')
--- redis multibulk to lua
-- setup: SET a 1 ;; SET b 2
local r = redis.call('MGET', 'a', 'b', 'c'); return {type(r), #r, r[1], r[2], tostring(r[3])}
--- redis multibulk passthrough
-- setup: SET a 1 ;; SET b 2
return redis.call('MGET', 'a', 'b', 'c')
--- setresp 3 nil is nil
redis.setresp(3); return type(redis.call('GET', 'missing'))
--- setresp 3 status
redis.setresp(3); local r = redis.call('SET', 'x', 'y'); return r.ok
--- setresp 2 hello map
redis.setresp(2); return redis.call('HELLO')[1]
--- integer reply of incrbyfloat is string
-- setup: SET f 1.5
return redis.call('INCRBYFLOAT', 'f', '0.25')
--- float arguments to redis.call
return redis.call('SET', 'f', 1.5) and redis.call('GET', 'f')
--- integer-valued float argument
redis.call('SET', 'f', 3.0); return redis.call('GET', 'f')
--- large float argument
redis.call('SET', 'f', 1e20); return redis.call('GET', 'f')
--- negative zero argument
redis.call('SET', 'f', -0.0); return redis.call('GET', 'f')
--- fraction argument
redis.call('SET', 'f', 0.1); return redis.call('GET', 'f')
--- tostring of numbers
return {tostring(1/3), tostring(100), tostring(1e100), tostring(-0.5)}
--- string number coercion
return '10' + 5
--- table with nil hole length
return #{1, 2, nil}
--- return number as string concat
return 1 .. ''
--- nested empty tables
return {{}, {{}}, {}}
--- boolean inside array
return {true, false, true}
--- error table inside array
return {1, {err = 'ERR inner'}, 2}
--- deep nesting ok
local t = {} local c = t for i = 1, 50 do c[1] = {} c = c[1] end return t
