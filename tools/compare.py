import json, sys, collections
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
assert a.keys() == b.keys()
diffs = collections.Counter(); examples = {}
for key in a:
    ja, jb = a[key], b[key]
    if isinstance(ja, str) or isinstance(jb, str):
        print("ERR", key, ja if isinstance(ja, str) else "", jb if isinstance(jb, str) else ""); continue
    assert len(ja) == len(jb), key
    for x, y in zip(ja, jb):
        for field in x:
            if x[field] != y[field]:
                tag = (field, x["rule"], f"{x[field]} -> {y[field]}" if field == "threads" else "")
                diffs[(key.split("/")[2],) + tag] += 1
                examples.setdefault(tag, (key, x[field], y[field]))
for k, n in sorted(diffs.items()):
    print(n, k)
for tag, ex in examples.items():
    if tag[0] != "threads":
        print("EXAMPLE", tag, ex[0]); print("  before", str(ex[1])[:600]); print("  after ", str(ex[2])[:600])
