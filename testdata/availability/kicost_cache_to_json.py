#!/usr/bin/env python3
"""Rebuilds testdata/availability/{nexar,kitspace,digikey,mouser}-kicost/*.json from the response caches
committed in hildogjr/KiCost's tests (see the PROVENANCE.txt files there).

usage: kicost_cache_to_json.py KICOST_TESTS_DIR DIGIKEY_V4_MODELS_DIR OUT_DIR

KICOST_TESTS_DIR       the tests/ folder of a KiCost checkout (commit b2d3d419802b5d35e0952475d15216645fc8dba2)
DIGIKEY_V4_MODELS_DIR  kicost_digikey_api_v4/v4/productinformation/models of the PyPI wheel
                       kicost-digikey-api-v4 0.1.5 (only read with ast; none of its code runs)
OUT_DIR                testdata/availability

The caches are Python pickles (protocol 2). They are read with an Unpickler that resolves no global
except the DigiKey client's model classes (replaced by plain stand-ins built from the model files'
swagger_types / attribute_map), copyreg._reconstructor, datetime and dateutil's tzutc, so nothing
in a cache can run code.
"""
import ast
import codecs
import copyreg
import datetime
import io
import json
import os
import pickle
import sys

NEXAR = ['mpn_Murata_GRM1885C1H221JA01D', 'mpn_Murata_GRM21BR71A106KE51L', 'mpn_Yageo_RC0603FR-071KL',
         'mpn_Panasonic_ERJ3EKF2493V']
KITSPACE = ['mpn_OPA170AIDBVT', 'mpn_ASML-5822', 'mpn_AP2204K-3.3TRG1', 'mpn_0402CS-82N']
DIGIKEY = ['RMCF0805JT10K0', 'KA78L05AMTF', 'BC847BLT1G', '860020474012']
DIGIKEY_KEYWORD = ['G5LE-14-DC12']
MOUSER = ['mou_530-5MF6-R', 'mou_710-696101000002', 'mpn_695120004001']
MODELS_PREFIX = 'kicost_digikey_api_v4.v4.productinformation.models.'


class Model:
    """A DigiKey client model object: its state is the pickled __dict__ ('_' + attribute)."""


class TZUTC(datetime.tzinfo):
    def utcoffset(self, dt): return datetime.timedelta(0)
    def dst(self, dt): return datetime.timedelta(0)
    def tzname(self, dt): return 'UTC'


def model_class(models_dir, module, name, cache={}):
    key = module + '.' + name
    if key not in cache:
        fn = os.path.join(models_dir, module[len(MODELS_PREFIX):] + '.py')
        for node in ast.parse(open(fn, encoding='utf-8').read()).body:
            if isinstance(node, ast.ClassDef) and node.name == name:
                maps = {st.targets[0].id: ast.literal_eval(st.value) for st in node.body
                        if isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Name)
                        and st.targets[0].id in ('swagger_types', 'attribute_map')}
                cache[key] = type(name, (Model,), maps)
                break
        else:
            raise pickle.UnpicklingError('no class %s in %s' % (name, fn))
    return cache[key]


def load(path, models_dir=None):
    class Restricted(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ('copyreg', '_reconstructor'):
                return copyreg._reconstructor
            if module in ('builtins', '__builtin__') and name == 'object':
                return object
            if module == 'datetime' and name in ('datetime', 'date'):
                return getattr(datetime, name)
            if (module, name) == ('dateutil.tz.tz', 'tzutc'):
                return TZUTC
            if (module, name) == ('_codecs', 'encode'):
                return codecs.encode
            if models_dir and module.startswith(MODELS_PREFIX):
                return model_class(models_dir, module, name)
            raise pickle.UnpicklingError('refused global %s.%s' % (module, name))
    with open(path, 'rb') as f:
        return Restricted(io.BytesIO(f.read())).load()


def to_json(o):
    """A DigiKey model object as the JSON object it was deserialised from: every attribute of the
    model under its JSON name (attribute_map), None as null."""
    if isinstance(o, Model):
        unknown = {k for k in o.__dict__ if k != 'discriminator'} - {'_' + a for a in o.swagger_types}
        if unknown:
            raise ValueError('attributes outside the model: %s' % sorted(unknown))
        return {o.attribute_map[a]: to_json(o.__dict__.get('_' + a)) for a in o.swagger_types}
    if isinstance(o, list):
        return [to_json(x) for x in o]
    if isinstance(o, dict):
        return {k: to_json(v) for k, v in o.items()}
    if isinstance(o, (datetime.datetime, datetime.date)):
        return o.isoformat()
    if isinstance(o, bytes):
        raise TypeError('bytes in a cache: %r' % o[:40])
    return o


def dump(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write('\n')


def main(tests, models, out):
    for name in NEXAR:  # one element of results['data']['supMultiMatch'] each
        dump(os.path.join(out, 'nexar-kicost', name + '.json'),
             {'data': {'supMultiMatch': [load(os.path.join(tests, 'nexar', name + '.dat'))]}})
    # elements of results['data']['match'], in this order (the last one is null: not matched)
    dump(os.path.join(out, 'kitspace-kicost', 'match.json'),
         {'data': {'match': [load(os.path.join(tests, 'kitspace', n + '.dat')) for n in KITSPACE]}})
    for pn in DIGIKEY:  # a ProductDetails object: {"SearchLocaleUsed": …, "Product": …}
        obj = load(os.path.join(tests, 'digikey_v4', 'dpn_%s_US_en_USD_US_v4.dat' % pn), models)
        dump(os.path.join(out, 'digikey-kicost', 'productdetails_%s.json' % pn), to_json(obj))
    for name in MOUSER:  # the whole parsed body of a Mouser search/partnumber answer
        dump(os.path.join(out, 'mouser-kicost', name + '.json'), load(os.path.join(tests, 'mouser', name + '.dat')))
    for kw in DIGIKEY_KEYWORD:  # a KeywordSearchResponse: {"Products": […], "ProductsCount": …, …}
        obj = load(os.path.join(tests, 'digikey_v4', 'key_%s_US_en_USD_US_v4.dat' % kw), models)
        dump(os.path.join(out, 'digikey-kicost', 'keyword_%s.json' % kw), to_json(obj))


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
