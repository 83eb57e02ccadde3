--- cjson encode 0
return cjson.encode({1,2,3})
--- cjson encode 1
return cjson.encode({a=1})
--- cjson encode 2
return cjson.encode({})
--- cjson encode 3
return cjson.encode('str')
--- cjson encode 4
return cjson.encode(123)
--- cjson encode 5
return cjson.encode(1.5)
--- cjson encode 6
return cjson.encode(-0.1)
--- cjson encode 7
return cjson.encode(1e20)
--- cjson encode 8
return cjson.encode(1/3)
--- cjson encode 9
return cjson.encode(true)
--- cjson encode 10
return cjson.encode(false)
--- cjson encode 11
return cjson.encode(cjson.null)
--- cjson encode 12
return cjson.encode({1,'two',{3,{4}}})
--- cjson encode 13
return cjson.encode({'a\"b'})
--- cjson encode 14
return cjson.encode({'\n\t\\/'})
--- cjson encode 15
return cjson.encode({[1]=1,[2]=2,[4]=4})
--- cjson encode 16
return cjson.encode({[1]=1,[10]=2})
--- cjson encode 17
return cjson.encode({[1]=1,[3]=3})
--- cjson encode 18
return cjson.encode({nested={deep={deeper=1}}})
--- cjson encode 19
return cjson.encode({'\1\31'})
--- cjson encode 20
return cjson.encode({['1']=1})
--- cjson encode 21
return cjson.encode({[1.5]=1})
--- cjson encode 22
return cjson.encode({3.14159265358979})
--- cjson encode 23
return cjson.encode({100000000000000})
--- cjson encode 24
return cjson.encode({123456789012345678})
--- cjson encode 25
return cjson.encode({-1e-10})
--- cjson encode 26
return cjson.encode({0})
--- cjson encode 27
return cjson.encode({'é'})
--- cjson encode 28
return cjson.encode({{},{}})
--- cjson decode 0
local ok, v = pcall(cjson.decode, '[1,2,3]') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 1
local ok, v = pcall(cjson.decode, '{"a":1}') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 2
local ok, v = pcall(cjson.decode, '"str"') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 3
local ok, v = pcall(cjson.decode, '123') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 4
local ok, v = pcall(cjson.decode, '1.5e3') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 5
local ok, v = pcall(cjson.decode, '-0') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 6
local ok, v = pcall(cjson.decode, 'true') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 7
local ok, v = pcall(cjson.decode, 'null') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 8
local ok, v = pcall(cjson.decode, '[null,1]') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 9
local ok, v = pcall(cjson.decode, '{"a":[1,{"b":2}]}') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 10
local ok, v = pcall(cjson.decode, '"\\u00e9"') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 11
local ok, v = pcall(cjson.decode, '"\\n"') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 12
local ok, v = pcall(cjson.decode, '[]') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 13
local ok, v = pcall(cjson.decode, '{}') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 14
local ok, v = pcall(cjson.decode, ' [1] ') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 15
local ok, v = pcall(cjson.decode, '[1,]') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 16
local ok, v = pcall(cjson.decode, '{a:1}') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 17
local ok, v = pcall(cjson.decode, '[1') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 18
local ok, v = pcall(cjson.decode, '') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 19
local ok, v = pcall(cjson.decode, 'nul') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 20
local ok, v = pcall(cjson.decode, '0x10') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 21
local ok, v = pcall(cjson.decode, '1e400') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 22
local ok, v = pcall(cjson.decode, '"\\ud83d\\ude00"') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode 23
local ok, v = pcall(cjson.decode, '[[[[1]]]]') if not ok then return 'ERR: ' .. v end return cjson.encode(v)
--- cjson decode types
local t = cjson.decode('[1,"a",true,null,{}]') return {type(t[1]), type(t[2]), type(t[3]), tostring(t[4] == cjson.null), type(t[5])}
--- cjson encode function error
return cjson.encode({f = function() end})
--- cjson encode max depth
cjson.encode_max_depth(3) local ok, e = pcall(cjson.encode, {{{{1}}}}) cjson.encode_max_depth(1000) return {tostring(ok), e}
--- cjson decode max depth
cjson.decode_max_depth(2) local ok, e = pcall(cjson.decode, '[[[1]]]') cjson.decode_max_depth(1000) return {tostring(ok), e}
--- cjson encode number precision
cjson.encode_number_precision(3) local s = cjson.encode(3.14159) cjson.encode_number_precision(14) return s
--- cjson invalid numbers off
return {pcall(cjson.encode, 0/0)}
--- cjson sparse array ratio
return cjson.encode({[1]=1,[2]=2,[3]=3,[8]=8})
--- cjson keep buffer
return tostring(cjson.encode_keep_buffer(true))
--- cjson roundtrip
local t = {a={1,2,3}, b='x', c=false} local s = cjson.encode(cjson.decode(cjson.encode(t))) return #s
--- cjson version
return cjson._VERSION
--- cmsgpack pack 0
local s = cmsgpack.pack(1) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 1
local s = cmsgpack.pack(-1) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 2
local s = cmsgpack.pack(127) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 3
local s = cmsgpack.pack(128) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 4
local s = cmsgpack.pack(255) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 5
local s = cmsgpack.pack(256) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 6
local s = cmsgpack.pack(65535) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 7
local s = cmsgpack.pack(65536) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 8
local s = cmsgpack.pack(-32) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 9
local s = cmsgpack.pack(-33) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 10
local s = cmsgpack.pack(-129) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 11
local s = cmsgpack.pack(-32769) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 12
local s = cmsgpack.pack(2^31) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 13
local s = cmsgpack.pack(-2^31-1) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 14
local s = cmsgpack.pack(2^40) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 15
local s = cmsgpack.pack(1.5) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 16
local s = cmsgpack.pack(0.1) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 17
local s = cmsgpack.pack('a') local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 18
local s = cmsgpack.pack(string.rep('x', 40)) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 19
local s = cmsgpack.pack(string.rep('x', 300)) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 20
local s = cmsgpack.pack(true) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 21
local s = cmsgpack.pack(false) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 22
local s = cmsgpack.pack(nil) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 23
local s = cmsgpack.pack({1,2,3}) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 24
local s = cmsgpack.pack({a=1}) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 25
local s = cmsgpack.pack({}) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 26
local s = cmsgpack.pack({1,{2,{3}}}) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack pack 27
local s = cmsgpack.pack({[1]=1,[3]=3}) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- cmsgpack roundtrip
local t = cmsgpack.unpack(cmsgpack.pack({1, 'two', {three = 3}})) return {t[1], t[2], t[3].three}
--- cmsgpack multi pack
return {cmsgpack.unpack(cmsgpack.pack(1, 2, 3))}
--- cmsgpack unpack_one
local s = cmsgpack.pack(10, 20) local off, v = cmsgpack.unpack_one(s) return {off, v}
--- cmsgpack unpack_limit
local s = cmsgpack.pack(10, 20, 30) return {cmsgpack.unpack_limit(s, 2)}
--- cmsgpack unpack garbage
return {pcall(cmsgpack.unpack, '\193')}
--- cmsgpack unpack truncated
return {pcall(cmsgpack.unpack, '\146\1')}
--- cmsgpack pack no args
return {pcall(cmsgpack.pack)}
--- cmsgpack float vs double
return #cmsgpack.pack(0.5) .. ' ' .. #cmsgpack.pack(0.1)
--- struct pack 0
local s = struct.pack('>I2', 258) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- struct pack 1
local s = struct.pack('<I2', 258) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- struct pack 2
local s = struct.pack('>i4', -2) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- struct pack 3
local s = struct.pack('b', -1) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- struct pack 4
local s = struct.pack('B', 255) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- struct pack 5
local s = struct.pack('>h', -300) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- struct pack 6
local s = struct.pack('<l', 123456) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- struct pack 7
local s = struct.pack('>d', 1.5) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- struct pack 8
local s = struct.pack('<f', 0.25) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- struct pack 9
local s = struct.pack('s', 'abc') local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- struct pack 10
local s = struct.pack('c3', 'abc') local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- struct pack 11
local s = struct.pack('>I3', 65537) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- struct pack 12
local s = struct.pack('!4 b i', 1, 2) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- struct pack 13
local s = struct.pack('xxb', 7) local h = '' for j = 1, #s do h = h .. string.format('%02x', s:byte(j)) end return h
--- struct unpack 0
return {struct.unpack('>I2', '\1\2')}
--- struct unpack 1
return {struct.unpack('<I2', '\1\2')}
--- struct unpack 2
return {struct.unpack('>i2', '\255\254')}
--- struct unpack 3
return {struct.unpack('b', '\200')}
--- struct unpack 4
return {struct.unpack('s', 'abc\0def')}
--- struct unpack 5
return {struct.unpack('c2', 'hello')}
--- struct unpack 6
return {struct.unpack('>I4', '\0\0\1\0')}
--- struct unpack 7
return {struct.unpack('>d', struct.pack('>d', 2.25))}
--- struct size
return {struct.size('>I4'), struct.size('b h'), struct.size('!8 b d'), struct.size('c10')}
--- struct unpack short data
return {pcall(struct.unpack, '>I4', 'ab')}
--- struct bad format
return {pcall(struct.pack, 'Z', 1)}
--- struct size variable
return {pcall(struct.size, 's')}
--- struct unpack offset
return {struct.unpack('b', 'abc', 2)}
--- bit 0
local ok, v = pcall(function() return bit.tobit(0xffffffff) end) if not ok then return 'ERR: ' .. v end return v
--- bit 1
local ok, v = pcall(function() return bit.tobit(2^32 + 1) end) if not ok then return 'ERR: ' .. v end return v
--- bit 2
local ok, v = pcall(function() return bit.tohex(255) end) if not ok then return 'ERR: ' .. v end return v
--- bit 3
local ok, v = pcall(function() return bit.tohex(-1) end) if not ok then return 'ERR: ' .. v end return v
--- bit 4
local ok, v = pcall(function() return bit.tohex(255, -4) end) if not ok then return 'ERR: ' .. v end return v
--- bit 5
local ok, v = pcall(function() return bit.tohex(255, 2) end) if not ok then return 'ERR: ' .. v end return v
--- bit 6
local ok, v = pcall(function() return bit.bnot(0) end) if not ok then return 'ERR: ' .. v end return v
--- bit 7
local ok, v = pcall(function() return bit.band(0xff, 0x0f) end) if not ok then return 'ERR: ' .. v end return v
--- bit 8
local ok, v = pcall(function() return bit.bor(1, 2, 4) end) if not ok then return 'ERR: ' .. v end return v
--- bit 9
local ok, v = pcall(function() return bit.bxor(5, 3) end) if not ok then return 'ERR: ' .. v end return v
--- bit 10
local ok, v = pcall(function() return bit.lshift(1, 31) end) if not ok then return 'ERR: ' .. v end return v
--- bit 11
local ok, v = pcall(function() return bit.rshift(-1, 28) end) if not ok then return 'ERR: ' .. v end return v
--- bit 12
local ok, v = pcall(function() return bit.arshift(-256, 4) end) if not ok then return 'ERR: ' .. v end return v
--- bit 13
local ok, v = pcall(function() return bit.rol(0x12345678, 8) end) if not ok then return 'ERR: ' .. v end return v
--- bit 14
local ok, v = pcall(function() return bit.ror(0x12345678, 8) end) if not ok then return 'ERR: ' .. v end return v
--- bit 15
local ok, v = pcall(function() return bit.bswap(0x12345678) end) if not ok then return 'ERR: ' .. v end return v
--- bit 16
local ok, v = pcall(function() return bit.band(-1, 0xffff) end) if not ok then return 'ERR: ' .. v end return v
--- bit 17
local ok, v = pcall(function() return bit.lshift(1, 33) end) if not ok then return 'ERR: ' .. v end return v
--- bit 18
local ok, v = pcall(function() return bit.tobit(1.5) end) if not ok then return 'ERR: ' .. v end return v
--- bit 19
local ok, v = pcall(function() return bit.tobit(-1.5) end) if not ok then return 'ERR: ' .. v end return v
--- bit 20
local ok, v = pcall(function() return bit.band() end) if not ok then return 'ERR: ' .. v end return v
