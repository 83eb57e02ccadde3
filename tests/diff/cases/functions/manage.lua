--- list empty
-- function:
-- run: FUNCTION LIST ;; FUNCTION LIST WITHCODE ;; FUNCTION LIST LIBRARYNAME *
--- list with code
-- function:
-- run: FUNCTION LIST WITHCODE ;; FUNCTION LIST withcode
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- list with pattern
-- function:
-- run: FUNCTION LIST LIBRARYNAME lib* ;; FUNCTION LIST LIBRARYNAME other* ;; FUNCTION LIST LIBRARYNAME l?b ;; FUNCTION LIST LIBRARYNAME [a-l]ib
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- list pattern is case insensitive
-- function:
-- run: FUNCTION LIST LIBRARYNAME LIB ;; FUNCTION LIST LIBRARYNAME Lib*
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- list pattern and withcode together
-- function:
-- run: FUNCTION LIST LIBRARYNAME lib1 WITHCODE ;; FUNCTION LIST WITHCODE LIBRARYNAME lib2
#!lua name=lib1
redis.register_function('f1', function() return 1 end)
-- load:
#!lua name=lib2
redis.register_function('f2', function() return 2 end)
--- list pattern selects among libraries
-- function:
-- run: FUNCTION LIST LIBRARYNAME *b ;; @sorted FUNCTION LIST LIBRARYNAME lib*
#!lua name=lib_a
redis.register_function('fa', function() return 1 end)
-- load:
#!lua name=lib_b
redis.register_function('fb', function() return 2 end)
--- list several libraries sorted client side
-- function:
-- run: @sorted FUNCTION LIST ;; @sorted FUNCTION LIST WITHCODE
#!lua name=alpha
redis.register_function('a1', function() return 1 end)
redis.register_function{function_name='a2', callback=function() return 2 end, flags={'no-writes'}, description='second'}
-- load:
#!lua name=beta
redis.register_function('b1', function() return 1 end)
-- load:
#!lua name=gamma
redis.register_function{function_name='g1', callback=function() return 1 end, flags={'allow-stale', 'no-cluster'}}
--- list wrong arguments
-- function:
-- run: FUNCTION LIST bad_argument ;; FUNCTION LIST LIBRARYNAME ;; FUNCTION LIST WITHCODE WITHCODE ;; FUNCTION LIST LIBRARYNAME a LIBRARYNAME b ;; FUNCTION LIST LIBRARYNAME x bad
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- list libraryname as the pattern value
-- function:
-- run: FUNCTION LIST LIBRARYNAME WITHCODE ;; FUNCTION LIST LIBRARYNAME LIBRARYNAME
#!lua name=WITHCODE
redis.register_function('f', function() return 1 end)
--- list with code keeps the exact code
-- function:
-- run: FUNCTION LIST WITHCODE
#!lua name=lib
-- a comment line
redis.register_function('f', function()
  return 'multi\tline'
end)

--- delete library
-- function:
-- run: FUNCTION DELETE lib ;; FUNCTION LIST ;; FCALL f 0 ;; FCALL g 0 ;; FUNCTION STATS
#!lua name=lib
redis.register_function('f', function() return 1 end)
redis.register_function('g', function() return 2 end)
--- delete unknown library
-- function:
-- run: FUNCTION DELETE nope ;; FUNCTION DELETE LIB ;; FUNCTION LIST
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- delete wrong number of arguments
-- function:
-- run: FUNCTION DELETE ;; FUNCTION DELETE a b
--- delete then load again
-- function:
-- run: FUNCTION DELETE lib ;; FUNCTION LOAD "#!lua name=lib\\nredis.register_function('f', function() return 'again' end)" ;; FCALL f 0
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- delete frees function names for other libraries
-- function:
-- run: FUNCTION DELETE lib1 ;; FUNCTION LOAD "#!lua name=lib2\\nredis.register_function('f', function() return 2 end)" ;; FCALL f 0
#!lua name=lib1
redis.register_function('f', function() return 1 end)
--- flush
-- function:
-- run: FUNCTION FLUSH ;; FUNCTION LIST ;; FCALL f 0 ;; FUNCTION STATS
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- flush sync and async
-- function:
-- run: FUNCTION FLUSH SYNC ;; FUNCTION LIST ;; FUNCTION LOAD "#!lua name=lib\\nredis.register_function('f', function() return 1 end)" ;; FUNCTION FLUSH async ;; FUNCTION LIST
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- flush wrong arguments
-- function:
-- run: FUNCTION FLUSH bad ;; FUNCTION FLUSH SYNC ASYNC ;; FUNCTION LIST
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- flushall does not remove functions
-- function:
-- run: FCALL f 1 x ;; FLUSHALL ;; FCALL f 1 y ;; FUNCTION STATS
#!lua name=lib
redis.register_function('f', function(keys) return redis.call('set', keys[1], '1') end)
--- stats when idle
-- function:
-- run: FUNCTION STATS
--- stats with libraries
-- function:
-- run: FUNCTION STATS
#!lua name=lib1
redis.register_function('f1', function() return 1 end)
redis.register_function('f2', function() return 1 end)
-- load:
#!lua name=lib2
redis.register_function('f3', function() return 1 end)
--- stats after a failed load
-- function:
-- run: FUNCTION STATS
#!lua name=lib1
redis.register_function('f1', function() return 1 end)
-- load:
#!lua name=lib2
redis.register_function('f2', function() return 1 end)
redis.register_function('f1', function() return 1 end)
--- stats wrong number of arguments
-- function:
-- run: FUNCTION STATS extra
--- kill when idle
-- function:
-- run: FUNCTION KILL ;; FUNCTION KILL extra
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- script kill when idle
-- function:
-- run: SCRIPT KILL
--- help
-- function:
-- run: FUNCTION HELP ;; FUNCTION help
--- help with extra argument
-- function:
-- run: FUNCTION HELP extra
--- unknown subcommand
-- function:
-- run: FUNCTION foo ;; FUNCTION ;; FUNCTION LOADX bar
--- dump empty
-- function:
-- run: FUNCTION DUMP
--- dump wrong number of arguments
-- function:
-- run: FUNCTION DUMP extra
--- dump and restore round trip
-- function:
-- run: FUNCTION DUMP ;; FUNCTION FLUSH ;; FUNCTION RESTORE $DUMP ;; FUNCTION LIST WITHCODE ;; FCALL f 0
#!lua name=lib
redis.register_function('f', function() return 'restored' end)
--- dump of nothing restores nothing
-- function:
-- run: FUNCTION DUMP ;; FUNCTION LOAD "#!lua name=lib\\nredis.register_function('f', function() return 1 end)" ;; FUNCTION RESTORE $DUMP ;; FUNCTION LIST ;; FUNCTION RESTORE $DUMP FLUSH ;; FUNCTION LIST
--- restore append collides with existing library
-- function:
-- run: FUNCTION DUMP ;; FUNCTION RESTORE $DUMP ;; FUNCTION RESTORE $DUMP APPEND ;; FCALL f 0
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- restore append adds libraries
-- function:
-- run: FUNCTION DUMP ;; FUNCTION FLUSH ;; FUNCTION LOAD "#!lua name=other\\nredis.register_function('g', function() return 2 end)" ;; FUNCTION RESTORE $DUMP APPEND ;; @sorted FUNCTION LIST ;; FCALL f 0 ;; FCALL g 0
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- restore replace
-- function:
-- run: FUNCTION DUMP ;; FUNCTION LOAD REPLACE "#!lua name=lib\\nredis.register_function('f', function() return 2 end)" ;; FCALL f 0 ;; FUNCTION RESTORE $DUMP REPLACE ;; FCALL f 0 ;; FUNCTION LIST WITHCODE
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- restore replace function name collision with another library
-- function:
-- run: FUNCTION DUMP ;; FUNCTION FLUSH ;; FUNCTION LOAD "#!lua name=other\\nredis.register_function('f', function() return 2 end)" ;; FUNCTION RESTORE $DUMP REPLACE ;; FUNCTION RESTORE $DUMP APPEND ;; FUNCTION LIST ;; FCALL f 0
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- restore flush policy
-- function:
-- run: FUNCTION DUMP ;; FUNCTION FLUSH ;; FUNCTION LOAD "#!lua name=other\\nredis.register_function('f', function() return 2 end)" ;; FUNCTION RESTORE $DUMP FLUSH ;; FUNCTION LIST ;; FCALL f 0
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- restore policy in lower case
-- function:
-- run: FUNCTION DUMP ;; FUNCTION RESTORE $DUMP replace ;; FUNCTION RESTORE $DUMP flush ;; FUNCTION LIST
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- restore of several libraries
-- function:
-- run: @unchecked FUNCTION DUMP ;; FUNCTION FLUSH ;; FUNCTION RESTORE $DUMP ;; @sorted FUNCTION LIST WITHCODE ;; FUNCTION STATS ;; FCALL f1 0 ;; FCALL f3 0
#!lua name=lib1
redis.register_function('f1', function() return 1 end)
redis.register_function{function_name='f2', callback=function() return 2 end, description='two', flags={'no-writes'}}
-- load:
#!lua name=lib2
redis.register_function('f3', function() return 3 end)
--- restore keeps function state fresh
-- function:
-- run: FCALL f 0 ;; FCALL f 0 ;; @unchecked FUNCTION DUMP ;; FUNCTION RESTORE $DUMP REPLACE ;; FCALL f 0
#!lua name=lib
local n = 0
redis.register_function('f', function() n = n + 1 return n end)
--- restore bad policy
-- function:
-- run: FUNCTION DUMP ;; FUNCTION RESTORE $DUMP BAD ;; FUNCTION RESTORE $DUMP FLUSH extra
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- restore wrong number of arguments
-- function:
-- run: FUNCTION RESTORE
--- restore bad payload
-- function:
-- run: FUNCTION RESTORE bad_payload ;; FUNCTION RESTORE '' ;; FUNCTION RESTORE 0123456789 ;; FUNCTION LIST
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- restore bad payload does not drop existing functions
-- function:
-- run: FUNCTION RESTORE bad_payload FLUSH ;; FCALL f 0
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- restore payload with newer rdb version
-- function:
-- run: FUNCTION RESTORE "\\x0b\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00"
--- restore payload with a wrong checksum
-- function:
-- run: FUNCTION RESTORE "\\x0a\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08"
--- restore empty payload with zero checksum
-- function:
-- run: FUNCTION RESTORE "\\x0a\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00" ;; FUNCTION LIST
--- restore non function payload
-- function:
-- run: FUNCTION RESTORE "\\x00\\x01v\\x0a\\x00\\x91\\x08\\xce\\xb2\\x198\\x8a\\xce" ;; FUNCTION LIST
--- dump of a small uncompressible library
-- function:
-- run: FUNCTION DUMP
#!lua name=a
local r=redis r.register_function('f',r.log)
--- list with glob special characters in the pattern
-- function:
-- run: FUNCTION LIST LIBRARYNAME [ab ;; FUNCTION LIST LIBRARYNAME "a\\\\*b" ;; FUNCTION LIST LIBRARYNAME "\\\\a\\\\b" ;; FUNCTION LIST LIBRARYNAME [^x]* ;; FUNCTION LIST LIBRARYNAME ""
#!lua name=ab
redis.register_function('f', function() return 1 end)
--- flush then dump
-- function:
-- run: FUNCTION FLUSH ;; FUNCTION DUMP ;; FUNCTION STATS
#!lua name=lib
redis.register_function('f', function() return 1 end)
--- restore empty policy argument
-- function:
-- run: FUNCTION DUMP ;; FUNCTION RESTORE $DUMP ""
