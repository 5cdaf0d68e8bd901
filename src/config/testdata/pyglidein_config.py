"""Reference for the differential tests: pyglidein's Config class, rebuilt on Python 3's
configparser (BasicInterpolation, optionxform = str, strict=False so that duplicates act as
on Python 2) and ast.literal_eval. Prints one JSON object: path -> {"sections": ...} or
{"error": "<exception type>"}. Values with no JSON form (bytes, complex, sets, ...) are
kept as the raw text, as our reader keeps them.

usage: python3 pyglidein_config.py DEFAULTS.ini CONFIG...
"""
import ast
import configparser
import json
import math
import sys
import warnings


class NoJson(Exception):
    pass


def to_json(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        try:
            float(v)
        except OverflowError:
            raise NoJson()
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise NoJson()
        return v
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    if isinstance(v, dict) and all(isinstance(k, str) for k in v):
        return {k: to_json(x) for k, x in v.items()}
    raise NoJson()


def typed(text):
    try:
        v = ast.literal_eval(text)
    except Exception:
        return text
    try:
        return to_json(v)
    except NoJson:
        return text


def read(path, into):
    parser = configparser.ConfigParser(strict=False, interpolation=configparser.BasicInterpolation())
    parser.optionxform = str
    with open(path, encoding="utf-8", newline=None) as f:
        parser.read_file(f, path)
    for section in parser.sections():
        into.setdefault(section, {})
        for option in parser.options(section):
            into[section][option] = typed(parser.get(section, option))


def partitions(config):
    cluster = config.get("Cluster", {})
    if "partitions" in cluster:
        cluster["partitions"] = [k.strip() for k in cluster["partitions"].split(",")]
        for k in cluster["partitions"]:
            if k not in config:
                continue
            merged = dict(cluster)
            merged.update(config[k])
            config[k] = merged


def main():
    warnings.simplefilter("ignore")
    out = {}
    for path in sys.argv[2:]:
        config = {}
        try:
            read(sys.argv[1], config)
            read(path, config)
            partitions(config)
            out[path] = {"sections": config}
        except Exception as e:
            out[path] = {"error": type(e).__name__}
    json.dump(out, sys.stdout)


main()
