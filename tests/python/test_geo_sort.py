"""Black-box tests for the geo commands and SORT / SORT_RO, plus a
differential check of GEOSEARCH / GEORADIUS outputs against a real
redis-server 7.0 (skipped when none is installed)."""

from __future__ import annotations

import random
import shutil

import pytest
import redis

from conftest import HOST, IS_REDIS, RespConn, encode_command, reference_redis

NYC = [
    (-73.9454966, 40.747533, "lic market"),
    (-73.9733487, 40.7648057, "central park n/q/r"),
    (-73.9903085, 40.7362513, "union square"),
    (-74.0131604, 40.7126674, "wtc one"),
    (-73.7858139, 40.6428986, "jfk"),
    (-73.9375699, 40.7498929, "q4"),
    (-73.9564142, 40.7480973, "4545"),
]


def add_nyc(r):
    args = []
    for lon, lat, m in NYC:
        args += [lon, lat, m]
    return r.execute_command("GEOADD", "nyc", *args)


# ---------------------------------------------------------------- geo


def test_geoadd_scores_and_options(r):
    assert add_nyc(r) == 7
    assert r.zrange("nyc", 0, -1, withscores=True)[0] == ("wtc one", 1791873972053020.0)
    assert r.execute_command("GEOADD", "nyc", "CH", "40.747533", "-73.9454966", "lic market") == 1
    assert r.execute_command("GEOADD", "nyc", "NX", "1", "1", "lic market") == 0
    assert r.execute_command("GEOADD", "nyc", "XX", "1", "1", "nosuch") == 0
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("GEOADD", "nyc", "XX", "NX", "1", "1", "a")
    with pytest.raises(redis.ResponseError, match="invalid longitude,latitude pair 200.000000,10.000000"):
        r.execute_command("GEOADD", "nyc", "200", "10", "a")


def test_geopos_geohash_geodist(r):
    r.execute_command("GEOADD", "points", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")
    pos = r.execute_command("GEOPOS", "points", "Palermo", "nosuch")
    assert pos[1] is None
    assert abs(float(pos[0][0]) - 13.361389) < 1e-5
    assert r.geodist("points", "Palermo", "Catania") == 166274.1516
    assert r.geodist("points", "Palermo", "Catania", "km") == 166.2742
    assert r.execute_command("GEODIST", "points", "Palermo", "nosuch") is None
    assert r.execute_command("GEODIST", "nokey", "a", "b") is None
    r.execute_command("GEOADD", "h", "-5.6", "42.6", "test")
    assert r.execute_command("GEOHASH", "h", "test", "nosuch") == ["ezs42e44yx0", None]


def test_search_replies(r):
    add_nyc(r)
    assert r.execute_command("GEORADIUS", "nyc", "-73.9798091", "40.7598464", "3", "km", "WITHDIST", "ASC") == [
        ["central park n/q/r", "0.7750"], ["4545", "2.3651"], ["union square", "2.7697"]]
    assert r.execute_command("GEORADIUS", "nyc", "-73.9798091", "40.7598464", "10", "km", "COUNT", "2", "DESC") == [
        "wtc one", "q4"]
    assert r.execute_command("GEOSEARCH", "nyc", "FROMMEMBER", "wtc one", "BYBOX", "14", "14", "km") == [
        "wtc one", "union square", "central park n/q/r", "4545", "lic market", "q4"]
    with pytest.raises(redis.ResponseError, match="exactly one of BYRADIUS and BYBOX"):
        r.execute_command("GEOSEARCH", "nyc", "FROMLONLAT", "0", "0", "ASC", "WITHDIST")
    with pytest.raises(redis.ResponseError, match="could not decode requested zset member"):
        r.execute_command("GEORADIUSBYMEMBER", "nyc", "nosuch", "1", "km")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("GEORADIUS_RO", "nyc", "0", "0", "1", "km", "STORE", "x")


def test_store_variants(r):
    add_nyc(r)
    assert r.execute_command("GEORADIUSBYMEMBER", "nyc", "wtc one", "7", "km", "STOREDIST", "d") == 5
    assert r.zscore("d", "wtc one") == 0.0
    assert r.execute_command("GEOSEARCHSTORE", "d2", "nyc", "FROMLONLAT", "-73.9798091", "40.7598464",
                             "BYRADIUS", "3", "km") == 3
    assert r.type("d2") == "zset"
    assert r.execute_command("GEOSEARCHSTORE", "d2", "nyc", "FROMLONLAT", "0", "0", "BYRADIUS", "3", "km") == 0
    assert r.exists("d2") == 0


def test_withcoord_resp3(r3):
    r3.execute_command("GEOADD", "k", "1", "2", "m")
    res = r3.execute_command("GEOSEARCH", "k", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km",
                             "WITHCOORD", "WITHDIST", "WITHHASH")
    assert res[0][0] == "m" and res[0][1] == "0.0000" and res[0][2] == 3378080408407459
    assert res[0][3] == [pytest.approx(0.99999994039535522), pytest.approx(2.0000001856465488)]


# ---------------------------------------------------------------- sort


def test_sort_basic(r):
    r.rpush("l", 3, 1, 2, 10)
    assert r.sort("l") == ["1", "2", "3", "10"]
    assert r.sort("l", alpha=True) == ["1", "10", "2", "3"]
    assert r.sort("l", desc=True, start=1, num=2) == ["3", "2"]
    r.rpush("bad", "1", "x")
    with pytest.raises(redis.ResponseError, match="One or more scores can't be converted into double"):
        r.sort("bad")


def test_sort_by_get_store(r):
    r.rpush("l", "a", "b", "c")
    r.mset({"w_a": 3, "w_b": 1, "w_c": 2})
    r.hset("h_b", "f", "hb")
    assert r.sort("l", by="w_*") == ["b", "c", "a"]
    assert r.sort("l", by="w_*", get=["#", "h_*->f"]) == ["b", "hb", "c", None, "a", None]
    assert r.sort("l", by="w_*", store="dst") == 3
    assert r.lrange("dst", 0, -1) == ["b", "c", "a"]
    assert r.sort("nosuch", store="dst") == 0
    assert r.exists("dst") == 0
    assert r.command_getkeys("SORT", "abc", "STORE", "x", "STORE", "def") == ["abc", "def"]


def test_sort_nosort_orders(r):
    r.zadd("z", {"a": 1, "b": 5, "c": 2, "d": 10, "e": 3})
    assert r.sort("z", by="nosort") == ["a", "c", "e", "b", "d"]
    assert r.sort("z", by="nosort", desc=True) == ["d", "b", "e", "c", "a"]
    assert r.eval("return redis.call('sort', KEYS[1], 'by', 'nosort', 'desc')", 1, "z") == [
        "d", "b", "e", "c", "a"]
    r.sadd("s", *"zyxabc")
    assert r.sort("s", by="nosort", store="o") == 6
    assert r.lrange("o", 0, -1) == list("abcxyz")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SORT_RO", "s", "STORE", "x")


# ---------------------------------------------------------------- differential


@pytest.fixture(scope="module")
def reference():
    """A real redis-server 7.0 on a free port."""
    binary = shutil.which("redis-server")
    if IS_REDIS or not binary:
        pytest.skip("no reference redis-server (or the suite targets Redis itself)")
    for port in reference_redis("lunakv-geo-redis-", binary):
        if port is None:
            pytest.skip("could not start the reference redis-server")
        yield port


def exchange(conn, *args):
    conn.send(encode_command(*args))
    return conn.read_reply()


@pytest.mark.parametrize("resp,area", [(2, "random"), (3, "random"), (2, "edge"), (3, "edge")])
def test_differential_searches(server, reference, resp, area):
    rnd = random.Random(20240601 + resp + (7 if area == "edge" else 0))
    ours = server.conn()
    theirs = RespConn(HOST, reference, timeout=10)
    for c in (ours, theirs):
        if resp == 3:
            exchange(c, "HELLO", "3")
        exchange(c, "FLUSHALL")
    if area == "edge":
        # Near the antimeridian and the latitude limit, where boxes wrap.
        center_lon, center_lat = rnd.choice([179.0, -179.0]), rnd.choice([82.0, -82.0, 0.5])
    else:
        center_lon, center_lat = rnd.uniform(-170, 170), rnd.uniform(-70, 70)
    args = []
    for i in range(400):
        if i % 4 == 0:
            lon, lat = rnd.uniform(-180, 180), rnd.uniform(-85, 85)
        else:
            lon = max(-180, min(180, center_lon + rnd.uniform(-3, 3)))
            lat = max(-85, min(85, center_lat + rnd.uniform(-3, 3)))
        args += [f"{lon:.6f}", f"{lat:.6f}", f"p{i}"]
    for c in (ours, theirs):
        assert exchange(c, "GEOADD", "pts", *args) == 400
    queries = []
    for q in range(60):
        lon = max(-180, min(180, center_lon + rnd.uniform(-2, 2)))
        lat = max(-85, min(85, center_lat + rnd.uniform(-2, 2)))
        unit = rnd.choice(["m", "km", "mi", "ft"])
        scale = {"m": 1000, "km": 1, "mi": 0.62, "ft": 3280}[unit]
        radius = f"{rnd.uniform(1, 400) * scale:.3f}"
        extra = rnd.sample(["WITHDIST", "WITHCOORD", "WITHHASH"], rnd.randint(0, 3))
        order = rnd.choice([[], ["ASC"], ["DESC"]])
        count = rnd.choice([[], ["COUNT", str(rnd.randint(1, 30))], ["COUNT", str(rnd.randint(1, 30)), "ANY"]])
        queries.append(["GEORADIUS", "pts", f"{lon:.6f}", f"{lat:.6f}", radius, unit, *extra, *order, *count])
        queries.append(["GEOSEARCH", "pts", "FROMLONLAT", f"{lon:.6f}", f"{lat:.6f}", "BYBOX", radius,
                        f"{rnd.uniform(1, 400) * scale:.3f}", unit, *extra, *(order or ["ASC"]), *count])
        queries.append(["GEOSEARCH", "pts", "FROMMEMBER", f"p{rnd.randrange(400)}", "BYRADIUS", radius, unit,
                        *extra, *(order or ["DESC"])])
        queries.append(["GEORADIUSBYMEMBER", "pts", f"p{rnd.randrange(400)}", radius, unit, "STOREDIST", "out"])
        queries.append(["ZRANGE", "out", "0", "-1", "WITHSCORES"])
    queries.append(["GEOPOS", "pts", *[f"p{i}" for i in range(0, 400, 7)]])
    queries.append(["GEOHASH", "pts", *[f"p{i}" for i in range(0, 400, 7)]])
    queries.append(["GEODIST", "pts", "p1", "p2", "km"])
    for q in queries:
        ours.send(encode_command(*q))
        theirs.send(encode_command(*q))
        a, b = ours.read_reply(), theirs.read_reply()
        # Results without an order are in zset order on both sides; the same
        # set of members with identical distances is required either way.
        assert a == b, f"{q}: lunakv {a!r} != redis {b!r}"
