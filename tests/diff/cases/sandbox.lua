--- read undeclared global
return a
--- write global
x = 1
--- write global via function
local function f() y = 2 end f() return 1
--- rawset on globals
rawset(_G, 'x', 1)
--- setmetatable on globals
setmetatable(_G, {})
--- getmetatable of globals
return type(getmetatable(_G))
--- string library write
string.foo = 1
--- string metatable index write
getmetatable('').__index.upper = function() return 'x' end
--- table insert into library
table.insert(string, 1)
--- math write
math.pi = 3
--- cjson write
cjson.encode = nil
--- redis table write
redis.call = nil
--- _G is accessible
return type(_G)
--- loadstring text works
return loadstring('return 1 + 1')()
--- loadstring bytecode refused
return loadstring(string.dump(function() return 1 end))
--- io absent
return type(io)
--- os absent
return type(os)
--- package absent
return type(package)
--- require absent
return type(require)
--- debug absent
return type(debug)
--- loadfile absent
return type(loadfile)
--- dofile absent
return type(dofile)
--- getfenv absent
return type(getfenv)
--- setfenv absent
return type(setfenv)
--- print exists
return type(print)
--- newproxy absent
return type(newproxy)
--- gcinfo exists
return type(gcinfo)
--- collectgarbage count type
return type(collectgarbage('count'))
--- local variables fine
local a = 5 local b = a * 2 return b
--- local function recursion
local function fib(n) if n < 2 then return n end return fib(n-1) + fib(n-2) end return fib(20)
--- closures
local function counter() local c = 0 return function() c = c + 1 return c end end local f = counter() f() f() return f()
--- pairs over local table
local t = {a=1, b=2, c=3} local s = 0 for k, v in pairs(t) do s = s + v end return s
--- ipairs
local s = 0 for i, v in ipairs({5, 6, 7}) do s = s + i * v end return s
--- string methods via metatable
return ('hello'):upper()
--- string format
return string.format('%d %s %5.2f %x', 42, 'str', 3.14159, 255)
--- string rep
return string.rep('ab', 5)
--- string sub negative
return string.sub('hello world', -5)
--- string find plain
return {string.find('hello world', 'wor', 1, true)}
--- string gsub
return string.gsub('hello world', 'o', '0')
--- string byte char
return {string.byte('A'), string.char(72, 105)}
--- string len
return #'hello'
--- string gmatch
local t = {} for w in string.gmatch('one two three', '%a+') do t[#t+1] = w end return t
--- table concat
return table.concat({1, 2, 3}, '-')
--- table sort
local t = {5, 2, 8, 1} table.sort(t) return t
--- table sort custom
local t = {5, 2, 8, 1} table.sort(t, function(a, b) return a > b end) return t
--- table remove
local t = {1, 2, 3} table.remove(t, 1) return t
--- table getn
return table.getn({1, 2, 3})
--- unpack
return {unpack({1, 2, 3})}
--- select count
return select('#', 1, 2, 3)
--- math functions
return {math.floor(3.7), math.ceil(3.2), math.abs(-4), math.max(1, 9, 3), math.min(4, 2)}
--- math sqrt
return tostring(math.sqrt(2))
--- math huge
return tostring(math.huge)
--- math fmod
return math.fmod(7, 3)
--- math random is deterministic
return {math.random(100), math.random(100), math.random(100)}
--- math random float
return tostring(math.random())
--- math randomseed then random
math.randomseed(42); return math.random(1000)
--- tonumber variants
return {tonumber('10'), tonumber('0x10'), tonumber('1e2'), tonumber('z', 36), tostring(tonumber('x'))}
--- type function
return {type(1), type('a'), type({}), type(nil), type(true), type(print)}
--- error with string
error('my error')
--- error with table err
error({err = 'CUSTOM from table'})
--- error with number
error(42)
--- error level zero
error('no position', 0)
--- assert false
assert(false, 'assertion message')
--- assert false no message
assert(false)
--- pcall error string
local ok, e = pcall(error, 'caught') return {tostring(ok), e}
--- xpcall handler
return xpcall(function() error('boom') end, function(e) return 'handled' end)
--- runtime error arithmetic on nil
local t = nil return t.x
--- runtime error call nil
local f = nil return f()
--- compile error
return 1 +
--- compile error unfinished string
return 'abc
--- syntax error keyword
local end = 1
--- tostring of table is not leaking address as error
return type(tostring({}))
--- string to number comparison error
return 1 < 'x'
--- concat table error
return 'a' .. {}
--- global function declaration is an error
function g() return 1 end
--- coroutine library
local co = coroutine.create(function(a) coroutine.yield(a + 1) return 'done' end) local ok, v = coroutine.resume(co, 1) return v
