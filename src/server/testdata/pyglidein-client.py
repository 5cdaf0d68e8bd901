"""A client speaking pyglidein's wire format, for the round-trip test.

It sends what pyglidein's client sends (urllib, a JSON body {'jsonrpc': '2.0', 'method',
'params', 'id'} with Content-type application/json, ids counting from 0) and reads replies
the way it does: an 'error' member is a failure, else 'result'.

    python3 pyglidein-client.py URL   -> prints one JSON line per call made
"""
import json
import sys
import urllib.request

URL = sys.argv[1]
next_id = 0


def request(method, params):
    global next_id
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": next_id})
    next_id += 1
    req = urllib.request.Request(URL, data=body.encode(), headers={"Content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as response:
        data = json.loads(response.read())
    if "error" in data:
        raise Exception("Error %r" % data["error"])
    return data.get("result")


state = request("get_state", {})
print(json.dumps({"get_state": state}))
bundle = {
    "uuid": "pyglidein@login.example.org",
    "timestamp": 1763726400,
    "metrics": {
        "avg_idle_time": {"Cluster": 0},
        "min_idle_time": {"Cluster": 86400000000000},
        "max_idle_time": {"Cluster": 0},
        "glideins_idle": {"Cluster": 1},
        "glideins_launched": {"Cluster": sum(row["count"] for row in state)},
        "glideins_running": {"Cluster": 2},
    },
}
print(json.dumps({"monitoring": request("monitoring", bundle)}))
try:
    request("monitoring", {"uuid": 5})
except Exception as error:
    print(json.dumps({"refused": str(error)}))
