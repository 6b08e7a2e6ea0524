/* chatcontract._speedups: an optional accelerator for the engine's fast path (chatcontract/_accel.py;
 * engine._fast_check uses it).
 *
 * Five functions. For the violation route (below plain): numbers(doc) finds a parsed document's floats and
 * out-of-range numbers, scan_fields() asks an object's fields whether the contract accepts their values, and
 * order_key(doc, loc) gives a finding's place in document order; maker(cls, names) (at the end of this file)
 * builds instances of a frozen slotted dataclass without its __init__, for the engine's findings and reports.
 * plain() is described here:
 *
 * plain(body) -> bool | None answers one question in a single pass over the bytes, without building any object:
 * "if this is valid JSON, is it free of duplicate keys, of number tokens with a fraction or an exponent, of
 * NaN/Infinity, and of integers longer than 18 digits?" True lets the engine parse with jiter's default (fast)
 * mode, whose result is then exactly what the strict parse (duplicate keys caught, floats kept lossless) would
 * give, and validate it without the checks for floats and 64-bit range. False only means "take the strict
 * parse"; it is answered whenever the scan is unsure: a key written with an escape (its decoded form is not its
 * bytes), more than MAX_KEYS keys in one object, nesting deeper than MAX_DEPTH, any byte that cannot start a JSON
 * value, a bare word that is not true/false/null. None is a False that says why: the scan met a repeated key
 * before any other reason to be unsure (the engine then asks duplicates() instead of the strict parse).
 * plain(body, True) also answers 2, "plain but for floats": number tokens with a fraction or an exponent are read
 * to their end instead of refused. jiter's default parse then gives what the strict parse gives (no duplicate key
 * to catch, no NaN/Infinity literal to refuse; a float is a float in both), and the engine finds the floats'
 * places in the document (numbers()) as after the strict parse.
 *
 * Validity is not this function's job: on invalid JSON its answer is meaningless, and the caller's parser, which
 * runs next, rejects the body anyway. On valid JSON the tokenization below is the grammar's (RFC 8259), so a
 * True is never wrong: a string ends at the first quote not preceded by an escaping backslash; in an object, the
 * strings right after '{' or ',' are keys; keys without escapes compare equal exactly when their bytes do.
 *
 * Bounded work: one pass over the input, at most MAX_KEYS^2 / 2 byte comparisons per object, fixed memory.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <math.h>
#include <string.h>
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

#define MAX_DEPTH 64
#define MAX_KEYS 64        /* keys per object, compared pairwise; a bigger object answers "unsure" */
#define MAX_INT_DIGITS 18  /* every integer of up to 18 digits fits in 64 bits (signed) */
#define MAX_OPEN_KEYS 256  /* keys of all the objects open at one time (fixed memory: 4 KiB on the stack) */
#define MAX_FOUND 64       /* duplicates() lists at most this many repeated keys, else it is unsure */

typedef struct {
    const unsigned char *start;
    Py_ssize_t len;
} key_span;

typedef struct {
    int is_object;
    int base;         /* this object's first key in the shared key array */
    Py_ssize_t index; /* an array's current item */
} frame;

/* The index of the first '"' or '\\' in s[j:n], or n. Sixteen bytes at a time where SSE2 is there (every x86-64). */
static inline Py_ssize_t
find_special(const unsigned char *s, Py_ssize_t j, Py_ssize_t n)
{
#if defined(__SSE2__) && defined(__GNUC__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    while (n - j >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + j));
        int hits = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
        if (hits)
            return j + __builtin_ctz((unsigned)hits);
        j += 16;
    }
#endif
    while (j < n && s[j] != '"' && s[j] != '\\')
        j++;
    return j;
}

/* Where the string that starts at s[i] == '"' ends (the index after its closing quote), or -1 when the input
 * ends first. *escaped tells whether a backslash occurs inside. A backslash escapes exactly the byte after it
 * as far as the end of the string is concerned (\uXXXX has no quote or backslash among its hex digits). */
static Py_ssize_t
string_end(const unsigned char *s, Py_ssize_t i, Py_ssize_t n, int *escaped)
{
    Py_ssize_t j = i + 1;
    *escaped = 0;
    for (;;) {
        j = find_special(s, j, n);
        if (j >= n)
            return -1;
        if (s[j] == '"')
            return j + 1;
        *escaped = 1;
        j += 2;
    }
}

/* The location of the value being scanned at depth `depth`: each open object's current key (its last key), each
 * open array's current index; a new tuple, or NULL with an exception set. */
static PyObject *
location(const frame *stack, int depth, const key_span *keys)
{
    PyObject *loc = PyTuple_New(depth > 0 ? depth - 1 : 0);
    if (loc == NULL)
        return NULL;
    for (int f = 0; f + 1 < depth; f++) {
        PyObject *seg;
        if (stack[f].is_object) {
            const key_span *k = &keys[stack[f + 1].base - 1]; /* the key whose value the next frame is */
            seg = PyUnicode_DecodeUTF8((const char *)k->start, k->len, NULL);
        } else {
            seg = PyLong_FromSsize_t(stack[f].index);
        }
        if (seg == NULL) {
            Py_DECREF(loc);
            return NULL;
        }
        PyTuple_SET_ITEM(loc, f, seg);
    }
    return loc;
}

/* 1: plain (see the top of this file); 0: unsure; 2: unsure, a repeated key met first (only without `found`).
 * With `found` (a list), a duplicate key is not a reason to be unsure: each repeated key is appended as (the
 * location of its object, the key) and the scan goes on, so 1 then means "plain but for these duplicates". -1: an
 * exception (only with `found`). With `floats` (not NULL), a number token with a fraction or an exponent is not a
 * reason to be unsure either: it is read to its end and *floats is set, so 1 then means "plain but for these
 * floats" when *floats is 1. With `listed` (not NULL) and no `found`, the first repeated key met before any float
 * makes a list (*listed, a new reference) that is `found` from there on, floats no longer taken: the scan goes on
 * as duplicates()' does, instead of answering 2. */
static int
scan(const unsigned char *s, Py_ssize_t n, PyObject *found, int *floats, PyObject **listed)
{
    frame stack[MAX_DEPTH];
    key_span keys[MAX_OPEN_KEYS];
    int nkeys = 0;      /* keys in use, over all open objects */
    int depth = 0;      /* frames in use */
    int expect_key = 0; /* the next string is a key (right after '{' or ',' in an object) */
    Py_ssize_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        switch (c) {
        case ' ': case '\t': case '\n': case '\r': case ':':
            i++;
            break;
        case '{':
        case '[':
            if (depth == MAX_DEPTH)
                return 0;
            stack[depth].is_object = (c == '{');
            stack[depth].base = nkeys;
            stack[depth].index = 0;
            depth++;
            expect_key = (c == '{');
            i++;
            break;
        case '}':
        case ']':
            if (depth > 0) {
                depth--;
                nkeys = stack[depth].base;
            }
            expect_key = 0;
            i++;
            break;
        case ',':
            expect_key = depth > 0 && stack[depth - 1].is_object;
            if (depth > 0 && !expect_key)
                stack[depth - 1].index++;
            i++;
            break;
        case '"': {
            int escaped;
            Py_ssize_t end = string_end(s, i, n, &escaped);
            if (end < 0)
                return 0;
            if (expect_key && depth > 0) {
                int base = stack[depth - 1].base;
                const unsigned char *k = s + i + 1;
                Py_ssize_t klen = end - i - 2;
                if (escaped || nkeys - base == MAX_KEYS || nkeys == MAX_OPEN_KEYS)
                    return 0;
                int repeated = 0;
                for (int m = base; m < nkeys && !repeated; m++)
                    repeated = keys[m].len == klen && memcmp(keys[m].start, k, (size_t)klen) == 0;
                if (repeated) {
                    if (found == NULL) {
                        if (listed == NULL || (floats != NULL && *floats))
                            return 2; /* a duplicate key */
                        found = *listed = PyList_New(0);
                        if (found == NULL)
                            return -1;
                        floats = NULL;
                    }
                    if (PyList_GET_SIZE(found) == MAX_FOUND)
                        return 0; /* more than the caller wants listed */
                    PyObject *loc = location(stack, depth, keys);
                    PyObject *name = loc == NULL ? NULL : PyUnicode_DecodeUTF8((const char *)k, klen, NULL);
                    PyObject *entry = name == NULL ? NULL : PyTuple_Pack(2, loc, name);
                    Py_XDECREF(loc);
                    Py_XDECREF(name);
                    if (entry == NULL || PyList_Append(found, entry) < 0) {
                        Py_XDECREF(entry);
                        return -1;
                    }
                    Py_DECREF(entry);
                }
                /* (a repeated key is kept too: it is the current key of the value that follows) */
                keys[nkeys].start = k;
                keys[nkeys].len = klen;
                nkeys++;
                expect_key = 0;
            }
            i = end;
            break;
        }
        case '-': case '0': case '1': case '2': case '3': case '4':
        case '5': case '6': case '7': case '8': case '9': {
            Py_ssize_t digits = (c != '-');
            int fraction = 0;
            i++;
            while (i < n) {
                unsigned char d = s[i];
                if (d >= '0' && d <= '9') {
                    digits++;
                    i++;
                } else if ((d == '.' || d == 'e' || d == 'E') && floats != NULL) {
                    /* a float: its fraction and exponent, to the token's end (the parser rejects a malformed one) */
                    fraction = 1;
                    i++;
                    while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' || s[i] == 'E' ||
                                     s[i] == '+' || s[i] == '-'))
                        i++;
                    break;
                } else if (d == '.' || d == 'e' || d == 'E' || d == 'I' || d == 'N') {
                    return 0; /* a fraction, an exponent, or -Infinity / NaN spelled after a sign */
                } else {
                    break;
                }
            }
            if (fraction)
                *floats = 1;
            else if (digits > MAX_INT_DIGITS)
                return 0; /* may not fit in 64 bits */
            break;
        }
        case 't': case 'f': case 'n':
            if (n - i >= 4 && memcmp(s + i, "true", 4) == 0)
                i += 4;
            else if (n - i >= 5 && memcmp(s + i, "false", 5) == 0)
                i += 5;
            else if (n - i >= 4 && memcmp(s + i, "null", 4) == 0)
                i += 4;
            else
                return 0;
            break;
        default:
            return 0; /* NaN, Infinity, a BOM, garbage: unsure */
        }
    }
    return 1;
}

static PyObject *
plain(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "plain(body, floats=False) takes bytes and a flag");
        return NULL;
    }
    PyObject *arg = args[0];
    if (!PyBytes_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "plain() takes bytes, not %.100s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    int with_floats = nargs == 2 ? PyObject_IsTrue(args[1]) : 0;
    if (with_floats < 0)
        return NULL;
    const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(arg);
    Py_ssize_t n = PyBytes_GET_SIZE(arg);
    int floats = 0;
    PyObject *listed = NULL;
    int rc = scan(s, n, NULL, with_floats ? &floats : NULL, with_floats ? &listed : NULL);
    if (listed != NULL) { /* repeated keys: their list when the scan went on to the end as duplicates()' does */
        if (rc == 1)
            return listed;
        Py_DECREF(listed);
        if (rc < 0) {
            if (!PyErr_ExceptionMatches(PyExc_UnicodeDecodeError))
                return NULL;
            PyErr_Clear(); /* a key that is not UTF-8: None, and the parser reports the body */
        }
        Py_RETURN_NONE;
    }
    if (rc == 1 && floats)
        return PyLong_FromLong(2);
    if (rc == 1)
        Py_RETURN_TRUE;
    if (rc == 2)
        Py_RETURN_NONE;
    Py_RETURN_FALSE;
}

/* duplicates(body) -> [(location, key), ...] | None: plain()'s scan, where a duplicate key is found, not refused.
 * None: unsure, as plain() is (a float, an escaped key, ...; a key that is not UTF-8; more than MAX_FOUND
 * repeats: the caller's lenient parse takes those in linear time). Else each repeated
 * key, in the order of the bytes: the location of its object (keys and indices, as the parse of the body that
 * keeps the last value of a key gives it: only where the later values of the key are no longer inside a value
 * the parse replaced, which the caller sorts out) and the key. An empty list: the body is plain. */
static PyObject *
duplicates(PyObject *module, PyObject *arg)
{
    (void)module;
    if (!PyBytes_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "duplicates() takes bytes, not %.100s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    PyObject *found = PyList_New(0);
    if (found == NULL)
        return NULL;
    int rc = scan((const unsigned char *)PyBytes_AS_STRING(arg), PyBytes_GET_SIZE(arg), found, NULL, NULL);
    if (rc == 1)
        return found;
    Py_DECREF(found);
    if (rc < 0) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeDecodeError))
            return NULL;
        PyErr_Clear(); /* a key that is not UTF-8: the parser reports the body */
    }
    Py_RETURN_NONE;
}


/* head + repr(value) + tail, what f"{head}{value!r}{tail}" gives (joined by hand when the repr is ASCII:
 * PyUnicode_FromFormat parses its format and grows a writer, at several times the cost). */
static PyObject *
repr_between(const char *head, PyObject *value, const char *tail)
{
    PyObject *shown = PyObject_Repr(value);
    if (shown == NULL)
        return NULL;
    PyObject *text;
    if (PyUnicode_IS_ASCII(shown)) {
        Py_ssize_t n = PyUnicode_GET_LENGTH(shown), a = (Py_ssize_t)strlen(head), b = (Py_ssize_t)strlen(tail);
        text = PyUnicode_New(a + n + b, 127);
        if (text != NULL) {
            Py_UCS1 *out = PyUnicode_1BYTE_DATA(text);
            memcpy(out, head, (size_t)a);
            memcpy(out + a, PyUnicode_1BYTE_DATA(shown), (size_t)n);
            memcpy(out + a + n, tail, (size_t)b);
        }
    } else {
        text = PyUnicode_FromFormat("%s%U%s", head, shown, tail);
    }
    Py_DECREF(shown);
    return text;
}

/* repeated(doc, where, code, make) -> [(code, hit), ...] | None: CC004's findings at the repeated keys duplicates()
 * listed (where: a list of (location of the object, key), those inside a replaced value taken out by the caller),
 * in doc, the jiter parse of the same body: for each, (code, make(location + (key,), message, the key's value)),
 * the message "Key {key!r} appears more than once in one object; parsers disagree on which wins." (inputs.py's
 * _repeated_message; tests/test_speedups.py holds the two equal). None when a location does not lead to an exact
 * dict holding the key (the scan and the parse read the same bytes: not expected), or a step is not an exact str
 * or int. */
static PyObject *
repeated(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    static const char tail[] = " appears more than once in one object; parsers disagree on which wins.";
    if (nargs != 4 || !PyList_CheckExact(args[1]) || !PyUnicode_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "repeated(doc, where, code, make) takes a document, a list, a str, a maker");
        return NULL;
    }
#ifdef Py_GIL_DISABLED
    Py_RETURN_NONE; /* another thread may change the document under the borrowed references */
#endif
    PyObject *where = args[1], *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(where); i++) {
        PyObject *entry = PyList_GET_ITEM(where, i);
        if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 2 || !PyTuple_CheckExact(PyTuple_GET_ITEM(entry, 0)) ||
            !PyUnicode_CheckExact(PyTuple_GET_ITEM(entry, 1)))
            goto unsure;
        PyObject *loc = PyTuple_GET_ITEM(entry, 0), *key = PyTuple_GET_ITEM(entry, 1), *node = args[0];
        Py_ssize_t depth = PyTuple_GET_SIZE(loc);
        for (Py_ssize_t d = 0; d < depth && node != NULL; d++) {
            PyObject *seg = PyTuple_GET_ITEM(loc, d);
            if (PyDict_CheckExact(node) && PyUnicode_CheckExact(seg)) {
                node = PyDict_GetItemWithError(node, seg);
            } else if (PyList_CheckExact(node) && PyLong_CheckExact(seg)) {
                Py_ssize_t at = PyLong_AsSsize_t(seg);
                if (at == -1 && PyErr_Occurred())
                    PyErr_Clear();
                node = at >= 0 && at < PyList_GET_SIZE(node) ? PyList_GET_ITEM(node, at) : NULL;
            } else {
                node = NULL;
            }
        }
        if (PyErr_Occurred())
            goto fail;
        PyObject *value = node != NULL && PyDict_CheckExact(node) ? PyDict_GetItemWithError(node, key) : NULL;
        if (value == NULL) {
            if (PyErr_Occurred())
                goto fail;
            goto unsure;
        }
        PyObject *place = PyTuple_New(depth + 1);
        if (place == NULL)
            goto fail;
        for (Py_ssize_t d = 0; d < depth; d++)
            PyTuple_SET_ITEM(place, d, Py_NewRef(PyTuple_GET_ITEM(loc, d)));
        PyTuple_SET_ITEM(place, depth, Py_NewRef(key));
        PyObject *message = repr_between("Key ", key, tail);
        PyObject *made = NULL;
        if (message != NULL) {
            PyObject *values[3] = {place, message, value};
            made = PyObject_Vectorcall(args[3], values, 3, NULL);
        }
        Py_DECREF(place);
        Py_XDECREF(message);
        PyObject *pair = made == NULL ? NULL : PyTuple_Pack(2, args[2], made);
        Py_XDECREF(made);
        if (pair == NULL || PyList_Append(out, pair) < 0) {
            Py_XDECREF(pair);
            goto fail;
        }
        Py_DECREF(pair);
    }
    return out;
unsure:
    Py_DECREF(out);
    Py_RETURN_NONE;
fail:
    Py_DECREF(out);
    return NULL;
}

/* numbers(doc) -> (places, odd) | None: rules._located.scan_numbers' question, answered by one walk in C.
 *
 * places: a frozenset of the location (a tuple of keys and indices) of every float of doc and of every location
 * above one (the root's () excluded), what rules._located.prefixes_of(float_paths(doc)) gives. odd: whether a
 * float is not finite or an int is outside the signed 64-bit range. Only exact dicts and lists are entered and
 * only exact floats and ints counted, as the Python walk does. None when doc nests deeper than NUMBERS_DEPTH (the
 * caller then walks it in Python). */
#define NUMBERS_DEPTH 256

typedef struct {
    PyObject *segs[NUMBERS_DEPTH]; /* the location of the container being walked (borrowed references) */
    char added[NUMBERS_DEPTH + 1]; /* added[k]: the location's first k segments are in places already */
    PyObject *places;
    int odd;
} numbers_walk;

/* Add the location segs[0:depth] and every location above it (down to one segment) to places. */
static int
add_places(numbers_walk *w, int depth)
{
    for (int k = depth; k >= 1 && !w->added[k]; k--) {
        PyObject *loc = PyTuple_New(k);
        if (loc == NULL)
            return -1;
        for (int j = 0; j < k; j++) {
            Py_INCREF(w->segs[j]);
            PyTuple_SET_ITEM(loc, j, w->segs[j]);
        }
        int rc = PySet_Add(w->places, loc);
        Py_DECREF(loc);
        if (rc < 0)
            return -1;
        w->added[k] = 1;
    }
    return 0;
}

/* Walk one member (seg: its key or index; value: borrowed) of the container at segs[0:depth]. 1: too deep. */
static int walk_container(numbers_walk *w, PyObject *node, int depth);

static int
walk_member(numbers_walk *w, PyObject *seg, PyObject *value, int depth)
{
    PyTypeObject *kind = Py_TYPE(value);
    if (kind == &PyDict_Type || kind == &PyList_Type) {
        if (depth == NUMBERS_DEPTH)
            return 1;
        w->segs[depth] = seg;
        w->added[depth + 1] = 0;
        return walk_container(w, value, depth + 1);
    }
    if (kind == &PyFloat_Type) {
        double x = PyFloat_AS_DOUBLE(value);
        if (x - x != 0.0)
            w->odd = 1;
        if (depth == NUMBERS_DEPTH)
            return 1;
        w->segs[depth] = seg;
        w->added[depth + 1] = 0;
        return add_places(w, depth + 1);
    }
    if (kind == &PyLong_Type && !w->odd) {
        int overflow;
        (void)PyLong_AsLongLongAndOverflow(value, &overflow);
        if (overflow)
            w->odd = 1;
    }
    return 0;
}

static int
walk_container(numbers_walk *w, PyObject *node, int depth)
{
    if (Py_TYPE(node) == &PyDict_Type) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(node, &pos, &key, &value)) {
            int rc = walk_member(w, key, value, depth);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    Py_ssize_t n = PyList_GET_SIZE(node);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = PyList_GET_ITEM(node, i);
        PyTypeObject *kind = Py_TYPE(value);
        if (kind != &PyDict_Type && kind != &PyList_Type && kind != &PyFloat_Type && kind != &PyLong_Type)
            continue; /* (no index object for a string, a bool or null) */
        PyObject *index = PyLong_FromSsize_t(i); /* (the tuples built from it hold their own references) */
        if (index == NULL)
            return -1;
        int rc = walk_member(w, index, value, depth); /* (no Python code runs during the walk: nothing changes) */
        Py_DECREF(index);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static PyObject *
numbers(PyObject *module, PyObject *doc)
{
    (void)module;
    numbers_walk w;
    w.places = PySet_New(NULL);
    if (w.places == NULL)
        return NULL;
    w.odd = 0;
    w.added[0] = 1;
    int rc = 0;
    PyTypeObject *kind = Py_TYPE(doc);
    if (kind == &PyDict_Type || kind == &PyList_Type) /* (a bare scalar is no document: nothing to say) */
        rc = walk_container(&w, doc, 0);
    if (rc != 0) {
        Py_DECREF(w.places);
        if (rc < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    PyObject *places = PyFrozenSet_New(w.places);
    Py_DECREF(w.places);
    if (places == NULL)
        return NULL;
    return Py_BuildValue("(NO)", places, w.odd ? Py_True : Py_False);
}

/* Whether two exact str objects hold the same text (a str's kind is the narrowest that holds it, so equal texts
 * have equal kinds). */
static inline int
same_text(PyObject *a, PyObject *b)
{
    if (a == b)
        return 1;
    Py_ssize_t n = PyUnicode_GET_LENGTH(a);
    return n == PyUnicode_GET_LENGTH(b) && PyUnicode_KIND(a) == PyUnicode_KIND(b) &&
           memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)n * PyUnicode_KIND(a)) == 0;
}

/* The sort key of loc in doc (see order_key below): a new list, Py_None (a new reference) when unsure, NULL on
 * error. */
static PyObject *
walk_order(PyObject *doc, PyObject *loc)
{
#ifdef Py_GIL_DISABLED
    /* A caller's document may be shared with another thread, and the walk holds borrowed references: in a
     * free-threaded build the Python walk (whose references are its own) decides. */
    Py_RETURN_NONE;
#endif
    PyObject *node = doc; /* borrowed; NULL once the walk has left the document */
    Py_ssize_t n = PyTuple_GET_SIZE(loc);
    PyObject *key = PyList_New(n);
    if (key == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *seg = PyTuple_GET_ITEM(loc, i);
        int text = PyUnicode_CheckExact(seg);
        if (!text && !PyLong_CheckExact(seg) && !PyBool_Check(seg))
            goto unsure;
        PyObject *item;
        if (node != NULL && PyDict_Check(node)) {
            if (!PyDict_CheckExact(node))
                goto unsure;
            Py_ssize_t pos = 0, at = 0;
            PyObject *k, *v, *next = NULL;
            while (PyDict_Next(node, &pos, &k, &v)) {
                if (!PyUnicode_CheckExact(k))
                    goto unsure;
                if (text && same_text(k, seg)) {
                    next = v; /* (the keys after it do not move it) */
                    break;
                }
                at++;
            }
            item = PyLong_FromSsize_t(at); /* (the object's size when the key is not there) */
            node = next;
        } else if (node != NULL && PyList_Check(node) && !text) {
            if (!PyList_CheckExact(node))
                goto unsure;
            Py_INCREF(seg);
            item = seg;
            Py_ssize_t index = PyLong_AsSsize_t(seg);
            if (index == -1 && PyErr_Occurred())
                PyErr_Clear(); /* beyond any list: no item there */
            node = index >= 0 && index < PyList_GET_SIZE(node) ? PyList_GET_ITEM(node, index) : NULL;
        } else {
            item = PyLong_FromLong(0);
            node = NULL;
        }
        if (item == NULL) {
            Py_DECREF(key);
            return NULL;
        }
        PyList_SET_ITEM(key, i, item);
    }
    return key;
unsure:
    Py_DECREF(key);
    Py_RETURN_NONE;
}

/* order_key(doc, loc) -> list | None: the sort key of a finding at loc in doc (outcome.order_key's walk).
 * For each step: in an object, the key's position among the object's keys (its size when the key is not
 * there, and the walk goes on at nothing); in an array, an integer step itself; else 0.
 *
 * It answers only where no Python code can run during the walk (a document the caller passed in may hold
 * anything): exact dicts whose keys up to the step's are exact strings, exact lists, steps that are exact
 * strings or ints (bools included). Anything else on the way gives None, and the caller walks in Python. */
static PyObject *
order_key(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "order_key(doc, loc) takes a document and a tuple");
        return NULL;
    }
    return walk_order(args[0], args[1]);
}

/* doc_order(violations, doc, names) -> bool: outcome.sort_in_doc_order's sort, done here. names: the attribute
 * names of a finding's event, location and code. Each finding's key is (its event, -1 for None; order_key of its
 * location; its code), then its position, so that equal keys keep their order and findings are never compared.
 * False, the list untouched, when a location is not an exact tuple or a walk is unsure: the caller sorts. */
static PyObject *
doc_order(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 || !PyList_CheckExact(args[0]) || !PyTuple_CheckExact(args[2]) || PyTuple_GET_SIZE(args[2]) != 3) {
        PyErr_SetString(PyExc_TypeError, "doc_order(violations, doc, names) takes a list, a document and 3 names");
        return NULL;
    }
    PyObject *list = args[0], *doc = args[1], *names = args[2];
    Py_ssize_t n = PyList_GET_SIZE(list);
    PyObject *keyed = PyList_New(n);
    if (keyed == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyList_GET_SIZE(list) != n) { /* (a finding's attribute changed the list: leave it to the caller) */
            Py_DECREF(keyed);
            Py_RETURN_FALSE;
        }
        PyObject *v = PyList_GET_ITEM(list, i); /* (borrowed: the tuple below holds it once made) */
        Py_INCREF(v);
        PyObject *event = PyObject_GetAttr(v, PyTuple_GET_ITEM(names, 0));
        PyObject *loc = event == NULL ? NULL : PyObject_GetAttr(v, PyTuple_GET_ITEM(names, 1));
        PyObject *code = loc == NULL ? NULL : PyObject_GetAttr(v, PyTuple_GET_ITEM(names, 2));
        PyObject *walk = code == NULL ? NULL : PyTuple_CheckExact(loc) ? walk_order(doc, loc) : Py_NewRef(Py_None);
        PyObject *item = NULL;
        if (walk != NULL && walk != Py_None) {
            PyObject *place = PyLong_FromSsize_t(i);
            PyObject *first = event == Py_None ? PyLong_FromLong(-1) : Py_NewRef(event);
            if (place != NULL && first != NULL)
                item = PyTuple_Pack(5, first, walk, code, place, v);
            Py_XDECREF(place);
            Py_XDECREF(first);
        }
        int unsure = walk == Py_None;
        Py_DECREF(v);
        Py_XDECREF(event);
        Py_XDECREF(loc);
        Py_XDECREF(code);
        Py_XDECREF(walk);
        if (item == NULL) {
            Py_DECREF(keyed);
            if (unsure)
                Py_RETURN_FALSE;
            return NULL;
        }
        PyList_SET_ITEM(keyed, i, item);
    }
    if (PyList_Sort(keyed) < 0) {
        Py_DECREF(keyed);
        return NULL;
    }
    if (PyList_GET_SIZE(list) != n) { /* (a finding's attribute changed the list: leave it to the caller) */
        Py_DECREF(keyed);
        Py_RETURN_FALSE;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyTuple_GET_ITEM(PyList_GET_ITEM(keyed, i), 4);
        Py_INCREF(v);
        if (PyList_SetItem(list, i, v) < 0) {
            Py_DECREF(keyed);
            return NULL;
        }
    }
    Py_DECREF(keyed);
    Py_RETURN_TRUE;
}

/* scan_fields(table, node, loc, floats) -> (own, failing): rules._located._scan in C (see there).
 *
 * table: (required keys: tuple, closed: bool, keys: frozenset, checks: dict key -> (field, accepts, simple types:
 * tuple or None, item accepts or None)), from _Model.table(). own: a required key is missing or, closed, an
 * unknown key is there. failing: (key, value, None) for each value its field does not accept, (key, value, [i...])
 * for a list of models with items not accepted. A value holding a float (its location in floats) is not
 * accepted unless a simple type takes it. The accepts callables are the fields' jsonschema-rs is_valid. */
static int
holds_float(PyObject *floats, PyObject *loc, PyObject *key, PyObject *index)
{
    Py_ssize_t n = PyTuple_GET_SIZE(loc);
    PyObject *here = PyTuple_New(n + 1 + (index != NULL));
    if (here == NULL)
        return -1;
    for (Py_ssize_t j = 0; j < n; j++) {
        PyObject *seg = PyTuple_GET_ITEM(loc, j);
        Py_INCREF(seg);
        PyTuple_SET_ITEM(here, j, seg);
    }
    Py_INCREF(key);
    PyTuple_SET_ITEM(here, n, key);
    if (index != NULL) {
        Py_INCREF(index);
        PyTuple_SET_ITEM(here, n + 1, index);
    }
    int found = PySet_Contains(floats, here);
    Py_DECREF(here);
    return found;
}

static int
accepted(PyObject *accepts, PyObject *value)
{
    Py_INCREF(value);
    PyObject *answer = PyObject_CallOneArg(accepts, value);
    Py_DECREF(value);
    if (answer == NULL)
        return -1;
    int ok = PyObject_IsTrue(answer);
    Py_DECREF(answer);
    return ok;
}

static int
add_failing(PyObject *failing, PyObject *key, PyObject *value, PyObject *items)
{
    PyObject *entry = PyTuple_Pack(3, key, value, items);
    if (entry == NULL)
        return -1;
    int rc = PyList_Append(failing, entry);
    Py_DECREF(entry);
    return rc;
}

static PyObject *
scan_fields(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 4 || !PyTuple_Check(args[0]) || PyTuple_GET_SIZE(args[0]) != 4 || !PyDict_Check(args[1]) ||
        !PyTuple_Check(args[2]) || !PyAnySet_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "scan_fields(table, node, loc, floats) takes a table, a dict, a tuple, a set");
        return NULL;
    }
    PyObject *required = PyTuple_GET_ITEM(args[0], 0), *closed = PyTuple_GET_ITEM(args[0], 1);
    PyObject *keys = PyTuple_GET_ITEM(args[0], 2), *checks = PyTuple_GET_ITEM(args[0], 3);
    PyObject *node = args[1], *loc = args[2], *floats = args[3];
    if (!PyTuple_Check(required) || !PyAnySet_Check(keys) || !PyDict_Check(checks)) {
        PyErr_SetString(PyExc_TypeError, "scan_fields: a malformed table");
        return NULL;
    }
    int with_floats = PySet_GET_SIZE(floats) > 0;
    int own = 0;
    for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(required) && !own; j++) {
        int present = PyDict_Contains(node, PyTuple_GET_ITEM(required, j));
        if (present < 0)
            return NULL;
        own = !present;
    }
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    if (!own && closed == Py_True) {
        while (PyDict_Next(node, &pos, &key, &value)) {
            int known = PySet_Contains(keys, key);
            if (known < 0)
                return NULL;
            if (!known) {
                own = 1;
                break;
            }
        }
    }
    PyObject *failing = PyList_New(0);
    if (failing == NULL)
        return NULL;
    /* (the node is not changed while it is walked: the accepts callables are validators that only read) */
    PyObject *items_of = PyDict_Items(node);
    if (items_of == NULL)
        goto fail;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(items_of); k++) {
        PyObject *pair = PyList_GET_ITEM(items_of, k);
        key = PyTuple_GET_ITEM(pair, 0);
        value = PyTuple_GET_ITEM(pair, 1);
        PyObject *entry = PyDict_GetItemWithError(checks, key);
        if (entry == NULL) {
            if (PyErr_Occurred())
                goto fail_items;
            continue; /* an extra key */
        }
        if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 4) {
            PyErr_SetString(PyExc_TypeError, "scan_fields: a malformed check");
            goto fail_items;
        }
        PyObject *item_accepts = PyTuple_GET_ITEM(entry, 3);
        if (item_accepts != Py_None && PyList_CheckExact(value)) {
            PyObject *bad = NULL;
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++) {
                int ok = accepted(item_accepts, PyList_GET_ITEM(value, i));
                PyObject *index = NULL;
                if (ok < 0)
                    goto fail_bad;
                if (ok && with_floats) {
                    index = PyLong_FromSsize_t(i);
                    if (index == NULL)
                        goto fail_bad;
                    int found = holds_float(floats, loc, key, index);
                    if (found < 0) {
                        Py_DECREF(index);
                        goto fail_bad;
                    }
                    ok = !found;
                }
                if (!ok) {
                    if (index == NULL && (index = PyLong_FromSsize_t(i)) == NULL)
                        goto fail_bad;
                    if (bad == NULL && (bad = PyList_New(0)) == NULL) {
                        Py_DECREF(index);
                        goto fail_bad;
                    }
                    int rc = PyList_Append(bad, index);
                    Py_DECREF(index);
                    if (rc < 0)
                        goto fail_bad;
                } else {
                    Py_XDECREF(index);
                }
                continue;
            fail_bad:
                Py_XDECREF(bad);
                goto fail_items;
            }
            if (bad != NULL) {
                int rc = add_failing(failing, key, value, bad);
                Py_DECREF(bad);
                if (rc < 0)
                    goto fail_items;
            }
            continue;
        }
        PyObject *simple = PyTuple_GET_ITEM(entry, 2);
        int ok = 0;
        if (simple != Py_None) {
            if (!PyTuple_Check(simple)) {
                PyErr_SetString(PyExc_TypeError, "scan_fields: simple types must be a tuple");
                goto fail_items;
            }
            PyObject *kind = (PyObject *)Py_TYPE(value);
            for (Py_ssize_t t = 0; t < PyTuple_GET_SIZE(simple) && !ok; t++)
                ok = PyTuple_GET_ITEM(simple, t) == kind;
        } else {
            ok = accepted(PyTuple_GET_ITEM(entry, 1), value);
            if (ok < 0)
                goto fail_items;
            if (ok && with_floats) {
                int found = holds_float(floats, loc, key, NULL);
                if (found < 0)
                    goto fail_items;
                ok = !found;
            }
        }
        if (!ok && add_failing(failing, key, value, Py_None) < 0)
            goto fail_items;
    }
    Py_DECREF(items_of);
    return Py_BuildValue("(ON)", own ? Py_True : Py_False, failing);
fail_items:
    Py_DECREF(items_of);
fail:
    Py_DECREF(failing);
    return NULL;
}

/* places(trie, doc) -> (nulls, owns): rules._located._places_under in C (see there).
 *
 * trie: ((key, field) pairs of the fields that refuse null, (key, trie) pairs of model fields, (key, trie) pairs of
 * list-of-models fields, own: (required keys: tuple, closed: bool, keys: frozenset, model)). nulls: (location, the
 * dict holding it, the field) of each null under a refusing key; owns: (location, the dict, own) of each dict with a
 * required key missing or, closed, a key not in keys; in the order the walk meets them. Raises ValueError past
 * PLACES_DEPTH path segments (the caller then locates).
 */
#define PLACES_DEPTH 64

static PyObject *
places_loc(PyObject **path, Py_ssize_t depth, PyObject *key)
{
    PyObject *loc = PyTuple_New(depth + (key != NULL));
    if (loc == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < depth; i++) {
        Py_INCREF(path[i]);
        PyTuple_SET_ITEM(loc, i, path[i]);
    }
    if (key != NULL) {
        Py_INCREF(key);
        PyTuple_SET_ITEM(loc, depth, key);
    }
    return loc;
}

static int
places_add(PyObject *out, PyObject *loc, PyObject *node, PyObject *what)
{
    if (loc == NULL)
        return -1;
    PyObject *entry = PyTuple_Pack(3, loc, node, what);
    Py_DECREF(loc);
    if (entry == NULL)
        return -1;
    int rc = PyList_Append(out, entry);
    Py_DECREF(entry);
    return rc;
}

static int
places_own(PyObject *own, PyObject *node)
{
    /* 1 when node has a required key missing or (closed) an unknown key, 0 when not, -1 on error */
    if (!PyTuple_Check(own) || PyTuple_GET_SIZE(own) != 4 || !PyTuple_Check(PyTuple_GET_ITEM(own, 0)) ||
        !PyAnySet_Check(PyTuple_GET_ITEM(own, 2))) {
        PyErr_SetString(PyExc_TypeError, "places: a malformed own entry");
        return -1;
    }
    PyObject *required = PyTuple_GET_ITEM(own, 0), *keys = PyTuple_GET_ITEM(own, 2);
    for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(required); j++) {
        int present = PyDict_Contains(node, PyTuple_GET_ITEM(required, j));
        if (present <= 0)
            return present < 0 ? -1 : 1;
    }
    if (PyTuple_GET_ITEM(own, 1) == Py_True) {
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        while (PyDict_Next(node, &pos, &key, &value)) {
            int known = PySet_Contains(keys, key);
            if (known <= 0)
                return known < 0 ? -1 : 1;
        }
    }
    return 0;
}

static int
places_walk(PyObject *trie, PyObject *node, PyObject **path, Py_ssize_t depth, PyObject *nulls, PyObject *owns)
{
    if (!PyTuple_Check(trie) || PyTuple_GET_SIZE(trie) != 4 || !PyTuple_Check(PyTuple_GET_ITEM(trie, 0)) ||
        !PyTuple_Check(PyTuple_GET_ITEM(trie, 1)) || !PyTuple_Check(PyTuple_GET_ITEM(trie, 2))) {
        PyErr_SetString(PyExc_TypeError, "places: a malformed trie");
        return -1;
    }
    if (depth + 2 > PLACES_DEPTH) {
        PyErr_SetString(PyExc_ValueError, "places: too deep");
        return -1;
    }
    PyObject *own = PyTuple_GET_ITEM(trie, 3);
    int bad = places_own(own, node);
    if (bad < 0 || (bad && places_add(owns, places_loc(path, depth, NULL), node, own) < 0))
        return -1;
    for (int part = 0; part < 3; part++) {
        PyObject *pairs = PyTuple_GET_ITEM(trie, part);
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(pairs); j++) {
            PyObject *pair = PyTuple_GET_ITEM(pairs, j);
            if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 || !PyUnicode_CheckExact(PyTuple_GET_ITEM(pair, 0))) {
                PyErr_SetString(PyExc_TypeError, "places: a malformed pair");
                return -1;
            }
            PyObject *key = PyTuple_GET_ITEM(pair, 0), *sub = PyTuple_GET_ITEM(pair, 1);
            PyObject *value = PyDict_GetItemWithError(node, key);
            if (value == NULL) {
                if (PyErr_Occurred())
                    return -1;
                continue;
            }
            if (part == 0) {
                if (value == Py_None && places_add(nulls, places_loc(path, depth, key), node, sub) < 0)
                    return -1;
            } else if (part == 1) {
                if (PyDict_CheckExact(value)) {
                    path[depth] = key;
                    Py_INCREF(value);
                    int rc = places_walk(sub, value, path, depth + 1, nulls, owns);
                    Py_DECREF(value);
                    if (rc < 0)
                        return -1;
                }
            } else if (PyList_CheckExact(value)) {
                Py_INCREF(value);
                for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++) {
                    PyObject *item = PyList_GET_ITEM(value, i);
                    if (!PyDict_CheckExact(item))
                        continue;
                    PyObject *index = PyLong_FromSsize_t(i);
                    if (index == NULL) {
                        Py_DECREF(value);
                        return -1;
                    }
                    path[depth] = key;
                    path[depth + 1] = index;
                    Py_INCREF(item);
                    int rc = places_walk(sub, item, path, depth + 2, nulls, owns);
                    Py_DECREF(item);
                    Py_DECREF(index);
                    if (rc < 0) {
                        Py_DECREF(value);
                        return -1;
                    }
                }
                Py_DECREF(value);
            }
        }
    }
    return 0;
}

static PyObject *
places(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyDict_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "places(trie, doc) takes a trie and a dict");
        return NULL;
    }
    PyObject *path[PLACES_DEPTH];
    PyObject *nulls = PyList_New(0), *owns = PyList_New(0);
    if (nulls == NULL || owns == NULL || places_walk(args[0], args[1], path, 0, nulls, owns) < 0) {
        Py_XDECREF(nulls);
        Py_XDECREF(owns);
        return NULL;
    }
    return Py_BuildValue("(NN)", nulls, owns);
}

/* maker(cls, names) -> a callable that builds an instance of cls from len(names) positional values, one per slot
 * in names' order, without calling cls.__init__ (what violations.make_violation and outcome.make_report do in
 * Python: object.__new__(cls), then each slot's descriptor __set__). For frozen slotted dataclasses, whose
 * __init__ sets each field through object.__setattr__. Every name must be an object slot of cls itself (a
 * member descriptor in cls.__dict__); anything else is a TypeError when the maker is made, never later. */
#define MAKER_MAX 16

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyTypeObject *cls;
    Py_ssize_t n;
    Py_ssize_t offsets[MAKER_MAX];
} maker_object;

static PyObject *
maker_call(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    maker_object *m = (maker_object *)self;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0) {
        PyErr_SetString(PyExc_TypeError, "a maker takes positional values only");
        return NULL;
    }
    if (nargs != m->n) {
        PyErr_Format(PyExc_TypeError, "this maker takes %zd values, not %zd", m->n, nargs);
        return NULL;
    }
    PyObject *obj = m->cls->tp_alloc(m->cls, 0);
    if (obj == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        PyObject **slot = (PyObject **)((char *)obj + m->offsets[i]);
        PyObject *old = *slot;
        Py_INCREF(args[i]);
        *slot = args[i];
        Py_XDECREF(old);
    }
    return obj;
}

static void
maker_dealloc(PyObject *self)
{
    maker_object *m = (maker_object *)self;
    PyObject_GC_UnTrack(self);
    Py_CLEAR(m->cls);
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int
maker_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(((maker_object *)self)->cls);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int
maker_clear(PyObject *self)
{
    Py_CLEAR(((maker_object *)self)->cls);
    return 0;
}

static PyMemberDef maker_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(maker_object, vectorcall), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot maker_slots[] = {
    {Py_tp_dealloc, maker_dealloc},
    {Py_tp_traverse, maker_traverse},
    {Py_tp_clear, maker_clear},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_members, maker_members},
    {Py_tp_doc, "A builder of one frozen slotted class's instances (see chatcontract._speedups.maker)."},
    {0, NULL},
};

static PyType_Spec maker_spec = {
    .name = "chatcontract._speedups.Maker",
    .basicsize = sizeof(maker_object),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = maker_slots,
};

/* A Maker object for cls whose call is `call`, with n slot offsets (NULL: none read, as for hit_call). */
static PyObject *
new_maker(PyObject *module, PyTypeObject *cls, Py_ssize_t n, const Py_ssize_t *offsets, vectorcallfunc call)
{
    PyTypeObject *maker_type = *(PyTypeObject **)PyModule_GetState(module);
    if (maker_type == NULL) {
        PyErr_SetString(PyExc_SystemError, "chatcontract._speedups is not initialised");
        return NULL;
    }
    maker_object *m = PyObject_GC_New(maker_object, maker_type);
    if (m == NULL)
        return NULL;
    Py_INCREF(cls);
    m->cls = cls;
    m->n = n;
    if (offsets != NULL)
        memcpy(m->offsets, offsets, sizeof(Py_ssize_t) * (size_t)n);
    m->vectorcall = call;
    PyObject_GC_Track((PyObject *)m);
    return (PyObject *)m;
}

static PyObject *
maker(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyType_Check(args[0]) || !PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "maker(cls, names) takes a class and a tuple of slot names");
        return NULL;
    }
    PyTypeObject *cls = (PyTypeObject *)args[0];
    PyObject *names = args[1];
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    if (n > MAKER_MAX) {
        PyErr_Format(PyExc_TypeError, "maker() takes at most %d names", MAKER_MAX);
        return NULL;
    }
    if (cls->tp_alloc == NULL || cls->tp_itemsize != 0) {
        PyErr_Format(PyExc_TypeError, "%.100s cannot be made this way", cls->tp_name);
        return NULL;
    }
    Py_ssize_t offsets[MAKER_MAX];
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *name = PyTuple_GET_ITEM(names, i);
        PyObject *descr = PyUnicode_Check(name) ? PyDict_GetItemWithError(cls->tp_dict, name) : NULL;
        if (descr == NULL || !PyObject_TypeCheck(descr, &PyMemberDescr_Type)) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "%R is not a slot of %.100s", name, cls->tp_name);
            return NULL;
        }
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type != T_OBJECT_EX || (member->flags & READONLY) || member->offset <= 0 ||
            (size_t)member->offset + sizeof(PyObject *) > (size_t)cls->tp_basicsize) {
            PyErr_Format(PyExc_TypeError, "%R is not a writable object slot of %.100s", name, cls->tp_name);
            return NULL;
        }
        offsets[i] = member->offset;
    }
    return new_maker(module, cls, n, offsets, maker_call);
}

/* hit_maker(cls) -> a callable hit(loc, message, actual=None, expected=None, event=None) that builds an instance
 * of cls, a subclass of tuple with exactly those five fields and no other storage (violations.Hit), as
 * violations.hit does in Python: loc becomes a tuple when it is not one. A Maker object whose call is this one. */
static const char *const hit_fields[] = {"loc", "message", "actual", "expected", "event"};

static PyObject *
hit_call(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    maker_object *m = (maker_object *)self;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *values[5] = {NULL, NULL, NULL, NULL, NULL};
    if (nargs > 5) {
        PyErr_Format(PyExc_TypeError, "hit() takes at most 5 arguments (%zd given)", nargs);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        values[i] = args[i];
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t j = 0; j < nkw; j++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, j);
        int k = 0;
        while (k < 5 && PyUnicode_CompareWithASCIIString(name, hit_fields[k]) != 0)
            k++;
        if (k == 5) {
            PyErr_Format(PyExc_TypeError, "hit() got an unexpected keyword argument %R", name);
            return NULL;
        }
        if (values[k] != NULL) {
            PyErr_Format(PyExc_TypeError, "hit() got multiple values for argument '%s'", hit_fields[k]);
            return NULL;
        }
        values[k] = args[nargs + j];
    }
    for (int k = 0; k < 2; k++) {
        if (values[k] == NULL) {
            PyErr_Format(PyExc_TypeError, "hit() missing required argument '%s'", hit_fields[k]);
            return NULL;
        }
    }
    PyObject *loc = PyTuple_CheckExact(values[0]) ? Py_NewRef(values[0]) : PySequence_Tuple(values[0]);
    if (loc == NULL)
        return NULL;
    PyObject *made = m->cls->tp_alloc(m->cls, 5);
    if (made == NULL) {
        Py_DECREF(loc);
        return NULL;
    }
    PyTuple_SET_ITEM(made, 0, loc);
    for (int k = 1; k < 5; k++)
        PyTuple_SET_ITEM(made, k, Py_NewRef(values[k] == NULL ? Py_None : values[k]));
    return made;
}

static PyObject *
hit_maker(PyObject *module, PyObject *cls_arg)
{
    if (!PyType_Check(cls_arg) || !PyType_IsSubtype((PyTypeObject *)cls_arg, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "hit_maker(cls) takes a subclass of tuple");
        return NULL;
    }
    PyTypeObject *cls = (PyTypeObject *)cls_arg;
    if (cls->tp_basicsize != PyTuple_Type.tp_basicsize || cls->tp_itemsize != PyTuple_Type.tp_itemsize ||
        cls->tp_dictoffset != 0 || cls->tp_alloc == NULL) {
        PyErr_Format(PyExc_TypeError, "%.100s holds more than a tuple's items", cls->tp_name);
        return NULL;
    }
    return new_maker(module, cls, 5, NULL, hit_call);
}

/* violation(make, rules, fallback, names, code, loc, message, actual, expected, event) -> Violation:
 * outcome.violation_of's usual case in one call (the engine binds the first four with functools.partial).
 * make: violations.make_violation; rules: the registry (code -> Rule); names: ("name", "severity"), the Rule
 * attributes read. When the message is not an ASCII str of at most 500 characters, or actual or expected is not
 * a value shorten() returns as it is whatever it holds (None, a bool, a float, an int within 64 bits signed, an
 * ASCII str of at most 200 characters), or the code is not a registered str: fallback(code, loc, message, actual,
 * expected, event), the Python function, answers. */
#define MESSAGE_MAX 500
#define VALUE_MAX 200

static int
kept_as_is(PyObject *value)
{
    if (value == Py_None || PyBool_Check(value) || PyFloat_CheckExact(value))
        return 1;
    if (PyLong_CheckExact(value)) {
        int overflow = 0;
        (void)PyLong_AsLongLongAndOverflow(value, &overflow);
        return overflow == 0; /* (an int that does not fit is not an error: the Python function decides) */
    }
    return PyUnicode_CheckExact(value) && PyUnicode_IS_ASCII(value) && PyUnicode_GET_LENGTH(value) <= VALUE_MAX;
}

static PyObject *
violation(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 10 || !PyDict_CheckExact(args[1]) || !PyTuple_CheckExact(args[3]) || PyTuple_GET_SIZE(args[3]) != 2) {
        PyErr_SetString(PyExc_TypeError, "violation() takes make, rules (a dict), fallback, 2 names and 6 values");
        return NULL;
    }
    PyObject *make = args[0], *rules = args[1], *fallback = args[2], *names = args[3];
    PyObject *code = args[4], *message = args[6];
    PyObject *rule = NULL;
    if (PyUnicode_CheckExact(code) && PyUnicode_CheckExact(message) && PyUnicode_IS_ASCII(message) &&
        PyUnicode_GET_LENGTH(message) <= MESSAGE_MAX && kept_as_is(args[7]) && kept_as_is(args[8])) {
        rule = PyDict_GetItemWithError(rules, code); /* borrowed */
        if (rule == NULL && PyErr_Occurred())
            return NULL;
    }
    if (rule == NULL)
        return PyObject_Vectorcall(fallback, args + 4, 6, NULL);
    Py_INCREF(rule);
    PyObject *name = PyObject_GetAttr(rule, PyTuple_GET_ITEM(names, 0));
    PyObject *severity = name == NULL ? NULL : PyObject_GetAttr(rule, PyTuple_GET_ITEM(names, 1));
    Py_DECREF(rule);
    PyObject *made = NULL;
    if (severity != NULL) {
        PyObject *values[8] = {code, name, severity, args[5], message, args[7], args[8], args[9]};
        made = PyObject_Vectorcall(make, values, 8, NULL);
    }
    Py_XDECREF(name);
    Py_XDECREF(severity);
    return made;
}

static int
module_exec(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &maker_spec, NULL);
    if (type == NULL)
        return -1;
    *(PyObject **)PyModule_GetState(module) = type;
    return 0;
}

static int
module_traverse(PyObject *module, visitproc visit, void *arg)
{
    PyObject **state = (PyObject **)PyModule_GetState(module);
    if (state != NULL)
        Py_VISIT(*state);
    return 0;
}

static int
module_clear(PyObject *module)
{
    PyObject **state = (PyObject **)PyModule_GetState(module);
    if (state != NULL)
        Py_CLEAR(*state);
    return 0;
}

/* ---- culprits(doc, table, now) ----------------------------------------------------------------------------
 *
 * rules._fast.culprits in C, for the shapes a response usually has: the covered rules that may have a hit on a
 * document the contract accepted. table = (keys, codes, arguments_ok, nothing, year, ones): the key and value
 * strings below (in the order of enum K), the code strings (in the order of enum C, None where the rule is not
 * covered), the Python test of a tool call's arguments (CC207), the shared empty frozenset, a year in seconds and
 * each code's own one-code frozenset (see code_set). now: the Unix time (created's upper bound is min(10**12, now +
 * a year); the whole seconds of now, so never looser). Returns a frozenset of covered codes, or None whenever the
 * document leaves the
 * everyday shapes (a content list, a reasoning field, a value of an unexpected type, a number past 64 bits):
 * the Python function then answers. Every test restates the Python one (tests/test_speedups.py holds them equal).
 */

enum K {
    K_OBJECT, K_ERROR, K_ID, K_MODEL, K_CREATED, K_CHOICES, K_USAGE, K_PROMPT, K_COMPLETION, K_TOTAL, K_DETAILS,
    K_REASONING_TOKENS, K_INDEX, K_MESSAGE, K_MESSAGES, K_TOOL_CALLS, K_CONTENT, K_FINISH, K_FUNCTION, K_ARGUMENTS,
    K_REASONING_CONTENT, K_REASONING, K_REASONING_DETAILS, V_CHAT_COMPLETION, V_ERROR, V_ERROR_CAP, V_TOOL_CALLS,
    V_STOP, V_THINK, K_TEXT, K_COUNT
};

enum C {
    C201, C202, C203, C204, C205, C206, C207, C208, C209, C210, C211, C212, C213, C214, C215, C216, C217, C218,
    C219, C220, C503, C_COUNT
};

#define BIT(c) (1u << (c))
#define UNSURE 2 /* a helper's answer: the Python function decides */

/* 1 when value is an exact str that str.strip() empties, 0 when not (or not a str at all), UNSURE for a str
 * subclass. */
static int
blank(PyObject *value)
{
    if (value == NULL || !PyUnicode_Check(value))
        return 0;
    if (!PyUnicode_CheckExact(value))
        return UNSURE;
    Py_ssize_t n = PyUnicode_GET_LENGTH(value);
    int kind = PyUnicode_KIND(value);
    const void *data = PyUnicode_DATA(value);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i)))
            return 0;
    }
    return 1;
}

/* An exact int's value in *out: 1; 0 when value is not an exact int (a bool is not); UNSURE past 64 bits. */
static int
small_int(PyObject *value, long long *out)
{
    if (value == NULL || !PyLong_CheckExact(value))
        return 0;
    int overflow = 0;
    *out = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow != 0 || (*out == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return UNSURE;
    }
    return 1;
}

/* Whether a value's truth needs no Python code (a JSON value of the built-in types). */
static int
plain_value(PyObject *v)
{
    return v == Py_None || PyBool_Check(v) || PyLong_CheckExact(v) || PyFloat_CheckExact(v) ||
           PyUnicode_CheckExact(v) || PyList_CheckExact(v) || PyDict_CheckExact(v);
}

static int
is_str(PyObject *value, PyObject *what)
{
    return value != NULL && PyUnicode_CheckExact(value) && PyUnicode_Compare(value, what) == 0;
}

/* ---- A JSON object's text (CC207's arguments) ----------------------------------------------------------------
 *
 * Whether ASCII text is one JSON object as json.loads reads it (RFC 8259's grammar: no NaN or Infinity, no comment,
 * no trailing comma, no control character in a string), nested at most JSON_DEPTH deep. 1 when it is, 0 when it
 * is not or when this does not say (deeper): the caller then asks the Python test. It never says 1 for a text
 * json.loads refuses or reads as anything but an object; tests/test_speedups.py holds it to json.loads. */

#define JSON_DEPTH 64
#define DIGIT(c) ((c) >= '0' && (c) <= '9')
#define HEX(c) (DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))

static int json_value(const unsigned char *s, Py_ssize_t n, Py_ssize_t *i, int depth);

static inline void
json_space(const unsigned char *s, Py_ssize_t n, Py_ssize_t *i)
{
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r'))
        (*i)++;
}

static int
json_string(const unsigned char *s, Py_ssize_t n, Py_ssize_t *i)
{
    Py_ssize_t j = *i + 1; /* (past the opening quote) */
    while (j < n) {
        unsigned char c = s[j];
        if (c == '"') {
            *i = j + 1;
            return 1;
        }
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            if (j + 1 >= n)
                return 0;
            c = s[j + 1];
            if (c == 'u') {
                if (j + 5 >= n)
                    return 0;
                for (int h = 2; h < 6; h++) {
                    if (!HEX(s[j + h]))
                        return 0;
                }
                j += 6;
                continue;
            }
            if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' && c != 'r' && c != 't')
                return 0;
            j += 2;
            continue;
        }
        j++;
    }
    return 0;
}

static int
json_number(const unsigned char *s, Py_ssize_t n, Py_ssize_t *i)
{
    Py_ssize_t j = *i;
    if (j < n && s[j] == '-')
        j++;
    if (j >= n || !DIGIT(s[j]))
        return 0;
    if (s[j] == '0')
        j++;
    else
        while (j < n && DIGIT(s[j]))
            j++;
    if (j < n && s[j] == '.') {
        j++;
        if (j >= n || !DIGIT(s[j]))
            return 0;
        while (j < n && DIGIT(s[j]))
            j++;
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        j++;
        if (j < n && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j >= n || !DIGIT(s[j]))
            return 0;
        while (j < n && DIGIT(s[j]))
            j++;
    }
    *i = j;
    return 1;
}

static int
json_word(const unsigned char *s, Py_ssize_t n, Py_ssize_t *i, const char *word, Py_ssize_t len)
{
    if (n - *i < len || memcmp(s + *i, word, (size_t)len) != 0)
        return 0;
    *i += len;
    return 1;
}

/* The members or items of an object ('{') or array ('[') at s[*i]. */
static int
json_container(const unsigned char *s, Py_ssize_t n, Py_ssize_t *i, int depth)
{
    if (depth >= JSON_DEPTH)
        return 0;
    unsigned char close = s[*i] == '{' ? '}' : ']';
    (*i)++;
    json_space(s, n, i);
    if (*i < n && s[*i] == close) {
        (*i)++;
        return 1;
    }
    for (;;) {
        if (close == '}') {
            if (*i >= n || s[*i] != '"' || !json_string(s, n, i))
                return 0;
            json_space(s, n, i);
            if (*i >= n || s[*i] != ':')
                return 0;
            (*i)++;
            json_space(s, n, i);
        }
        if (!json_value(s, n, i, depth + 1))
            return 0;
        json_space(s, n, i);
        if (*i >= n)
            return 0;
        if (s[*i] == close) {
            (*i)++;
            return 1;
        }
        if (s[*i] != ',')
            return 0;
        (*i)++;
        json_space(s, n, i);
    }
}

static int
json_value(const unsigned char *s, Py_ssize_t n, Py_ssize_t *i, int depth)
{
    if (*i >= n)
        return 0;
    switch (s[*i]) {
    case '{':
    case '[':
        return json_container(s, n, i, depth);
    case '"':
        return json_string(s, n, i);
    case 't':
        return json_word(s, n, i, "true", 4);
    case 'f':
        return json_word(s, n, i, "false", 5);
    case 'n':
        return json_word(s, n, i, "null", 4);
    default:
        return json_number(s, n, i);
    }
}

/* 1 when text (any object) is an exact ASCII str holding one JSON object, else 0 (see above). */
static int
json_object_text(PyObject *text)
{
    if (!PyUnicode_CheckExact(text) || !PyUnicode_IS_ASCII(text))
        return 0;
    const unsigned char *s = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), i = 0;
    json_space(s, n, &i);
    if (i >= n || s[i] != '{' || !json_container(s, n, &i, 0))
        return 0;
    json_space(s, n, &i);
    return i == n;
}

/* The tool calls of one choice (CC206, CC207, CC208, CC215, CC216): bits in *bad, the arguments to test in args.
 * 0, UNSURE, or -1 with an exception set. */
static int
calls_culprits(PyObject **k, PyObject *finish, PyObject *calls, unsigned *bad, PyObject *args)
{
    if (is_str(finish, k[V_STOP]))
        *bad |= BIT(C206);
    PyObject *ids = PySet_New(NULL);
    if (ids == NULL)
        return -1;
    int rc = 0;
    for (Py_ssize_t j = 0; j < PyList_GET_SIZE(calls) && rc == 0; j++) {
        PyObject *call = PyList_GET_ITEM(calls, j);
        if (!PyDict_CheckExact(call)) {
            rc = UNSURE;
            break;
        }
        PyObject *cid = PyDict_GetItemWithError(call, k[K_ID]);
        if (cid == NULL && PyErr_Occurred()) {
            rc = -1;
            break;
        }
        if (cid != NULL && PyUnicode_Check(cid)) {
            int is_blank = blank(cid);
            if (is_blank == UNSURE) {
                rc = UNSURE;
                break;
            }
            if (is_blank) {
                *bad |= BIT(C215) | BIT(C208) | BIT(C216);
            } else {
                int seen = PySet_Contains(ids, cid);
                if (seen < 0) {
                    rc = -1;
                    break;
                }
                if (seen)
                    *bad |= BIT(C208);
            }
            if (PySet_Add(ids, cid) < 0) {
                rc = -1;
                break;
            }
            int good = PyUnicode_GET_LENGTH(cid) == 9 && PyUnicode_IS_ASCII(cid);
            if (good) {
                const Py_UCS1 *c = PyUnicode_1BYTE_DATA(cid);
                for (int i = 0; i < 9 && good; i++)
                    good = (c[i] >= '0' && c[i] <= '9') || (c[i] >= 'a' && c[i] <= 'z') || (c[i] >= 'A' && c[i] <= 'Z');
            }
            if (!good)
                *bad |= BIT(C216);
        }
        PyObject *fn = PyDict_GetItemWithError(call, k[K_FUNCTION]);
        if (fn == NULL && PyErr_Occurred()) {
            rc = -1;
            break;
        }
        if (fn != NULL && PyDict_Check(fn)) {
            if (!PyDict_CheckExact(fn)) {
                rc = UNSURE;
                break;
            }
            PyObject *arguments = PyDict_GetItemWithError(fn, k[K_ARGUMENTS]);
            if (arguments == NULL && PyErr_Occurred()) {
                rc = -1;
                break;
            }
            /* (a text read here as a JSON object needs no Python test) */
            if (arguments != NULL && PyUnicode_Check(arguments) && !json_object_text(arguments) &&
                PyList_Append(args, arguments) < 0)
                rc = -1;
        }
    }
    Py_DECREF(ids);
    return rc;
}

/* The walk itself: 0 with the bits in *bad, UNSURE, or -1 with an exception set. No Python code runs here (the
 * arguments are tested by the caller afterwards), so the borrowed references stay valid. */
static int
culprits_walk(PyObject **k, unsigned covered, PyObject *doc, long long latest, unsigned *bad, PyObject *args)
{
#define GET(var, node, key)                                                                                          \
    PyObject *var = PyDict_GetItemWithError((node), k[key]);                                                        \
    if (var == NULL && PyErr_Occurred())                                                                             \
        return -1;
    long long v = 0;
    int r;
    /* the conditions rules._fast.overlay once put into the schema */
    GET(kind, doc, K_OBJECT)
    GET(error, doc, K_ERROR)
    if (error != NULL) {
        if (!plain_value(error))
            return UNSURE;
        if (PyObject_IsTrue(error))
            *bad |= BIT(C503);
    }
    if (kind != NULL && PyUnicode_Check(kind)) {
        if (!PyUnicode_CheckExact(kind))
            return UNSURE;
        if (PyUnicode_Compare(kind, k[V_ERROR]) == 0 || PyUnicode_Compare(kind, k[V_ERROR_CAP]) == 0)
            *bad |= BIT(C503);
        if (PyUnicode_Compare(kind, k[V_CHAT_COMPLETION]) != 0)
            *bad |= BIT(C212);
    }
    GET(id, doc, K_ID)
    if ((r = blank(id)) != 0) {
        if (r == UNSURE)
            return UNSURE;
        *bad |= BIT(C210);
    }
    GET(model, doc, K_MODEL)
    if ((r = blank(model)) != 0) {
        if (r == UNSURE)
            return UNSURE;
        *bad |= BIT(C211);
    }
    GET(created, doc, K_CREATED)
    if ((r = small_int(created, &v)) != 0) {
        if (r == UNSURE || v < 1000000000LL || v > latest)
            *bad |= BIT(C209); /* (past 64 bits: out of range either way) */
    }
    GET(items, doc, K_CHOICES)
    if (items == NULL || !PyList_CheckExact(items))
        return UNSURE;
    Py_ssize_t n = PyList_GET_SIZE(items);
    if (n == 0)
        *bad |= BIT(C214);
    GET(usage, doc, K_USAGE)
    if (usage != NULL && usage != Py_None) {
        if (!PyDict_CheckExact(usage))
            return UNSURE;
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        while (PyDict_Next(usage, &pos, &key, &value)) {
            if (PyLong_CheckExact(value)) {
                if (small_int(value, &v) == UNSURE)
                    return UNSURE;
                if (v < 0)
                    *bad |= BIT(C202);
            } else if (PyDict_CheckExact(value)) {
                PyObject *k2, *v2;
                Py_ssize_t pos2 = 0;
                while (PyDict_Next(value, &pos2, &k2, &v2)) {
                    if ((r = small_int(v2, &v)) == UNSURE)
                        return UNSURE;
                    if (r == 1 && v < 0)
                        *bad |= BIT(C202);
                }
            }
        }
        long long p, c, t;
        if (covered & (BIT(C201) | BIT(C203))) {
            GET(pv, usage, K_PROMPT)
            GET(cv, usage, K_COMPLETION)
            GET(tv, usage, K_TOTAL)
            if (small_int(pv, &p) != 1 || small_int(cv, &c) != 1 || small_int(tv, &t) != 1)
                return UNSURE;
            long long sum;
            if (__builtin_add_overflow(p, c, &sum))
                return UNSURE;
            if (t != sum || p < 0 || c < 0)
                *bad |= (t < p || t < c) ? BIT(C203) : BIT(C201);
        }
        if (covered & BIT(C217)) {
            GET(details, usage, K_DETAILS)
            if (details != NULL && details != Py_None) {
                if (!PyDict_CheckExact(details))
                    return UNSURE;
                GET(rt, details, K_REASONING_TOKENS)
                GET(cv, usage, K_COMPLETION)
                long long reasoning = 0;
                if ((rt != NULL && small_int(rt, &reasoning) != 1) || small_int(cv, &c) != 1)
                    return UNSURE;
                if (reasoning > c)
                    *bad |= BIT(C217);
            }
        }
    }
    /* the choices: their indices (CC204), then each one's message and tool calls */
    if (n == 1) {
        PyObject *choice = PyList_GET_ITEM(items, 0);
        if (!PyDict_CheckExact(choice))
            return UNSURE;
        GET(index, choice, K_INDEX)
        if (small_int(index, &v) != 1)
            return UNSURE;
        if (v != 0)
            *bad |= BIT(C204);
    } else if (n > 1) {
        unsigned char *seen = PyMem_Calloc((size_t)n, 1);
        if (seen == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *choice = PyList_GET_ITEM(items, i);
            PyObject *index = PyDict_CheckExact(choice) ? PyDict_GetItemWithError(choice, k[K_INDEX]) : NULL;
            if (index == NULL || small_int(index, &v) != 1) {
                PyMem_Free(seen);
                return PyErr_Occurred() ? -1 : UNSURE;
            }
            if (v < 0 || v >= n || seen[v])
                *bad |= BIT(C204); /* not a permutation of 0..n-1: a duplicate, or out of range */
            else
                seen[v] = 1;
        }
        PyMem_Free(seen);
    }
    int think = (covered & (BIT(C218) | BIT(C219))) != 0, fields = (covered & BIT(C220)) != 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *choice = PyList_GET_ITEM(items, i);
        if (!PyDict_CheckExact(choice))
            return UNSURE;
        GET(msg, choice, K_MESSAGE)
        PyObject *calls = NULL;
        if (msg == NULL || msg == Py_None) {
            GET(messages, choice, K_MESSAGES)
            if (messages != NULL && !plain_value(messages))
                return UNSURE;
            if (messages == NULL || !PyObject_IsTrue(messages))
                *bad |= BIT(C213);
        } else {
            if (!PyDict_CheckExact(msg))
                return UNSURE;
            calls = PyDict_GetItemWithError(msg, k[K_TOOL_CALLS]);
            if (calls == NULL && PyErr_Occurred())
                return -1;
            if (think) {
                GET(content, msg, K_CONTENT)
                if (content != NULL && content != Py_None) {
                    if (!PyUnicode_CheckExact(content))
                        return UNSURE; /* a list of parts: the Python function reads it */
                    Py_ssize_t at = PyUnicode_Find(content, k[V_THINK], 0, PyUnicode_GET_LENGTH(content), 1);
                    if (at == -2)
                        return -1;
                    if (at >= 0)
                        *bad |= BIT(C218) | BIT(C219);
                }
            }
            if (fields) {
                for (int key = K_REASONING_CONTENT; key <= K_REASONING_DETAILS; key++) {
                    int has = PyDict_Contains(msg, k[key]);
                    if (has != 0)
                        return has < 0 ? -1 : UNSURE;
                }
            }
        }
        if (calls != NULL && calls != Py_None && !PyList_CheckExact(calls))
            return UNSURE;
        PyObject *finish = PyDict_GetItemWithError(choice, k[K_FINISH]);
        if (finish == NULL)
            return PyErr_Occurred() ? -1 : UNSURE;
        if (PyUnicode_Check(finish) && !PyUnicode_CheckExact(finish))
            return UNSURE;
        if (calls == NULL || calls == Py_None || PyList_GET_SIZE(calls) == 0) {
            if (is_str(finish, k[V_TOOL_CALLS]))
                *bad |= BIT(C205);
        } else if ((r = calls_culprits(k, finish, calls, bad, args)) != 0) {
            return r;
        }
    }
    return 0;
#undef GET
}

/* The parts of a table (culprits' and suspects'), checked: 0 to walk args[0], 1 to answer None (unsure: a
 * document that is not a dict, or a free-threaded build, where another thread may change the document under the
 * walk's borrowed references), or -1 with an exception set. */
static int
read_table(PyObject *const *args, Py_ssize_t nargs, const char *name, PyObject **k, unsigned *covered,
           PyObject **arguments_ok, PyObject **nothing, long *year)
{
    if (nargs != 3 || !PyTuple_Check(args[1]) || PyTuple_GET_SIZE(args[1]) != 6 || !PyFloat_CheckExact(args[2])) {
        PyErr_Format(PyExc_TypeError, "%s(doc, table, now) takes a document, a table and a float", name);
        return -1;
    }
    PyObject *keys = PyTuple_GET_ITEM(args[1], 0), *codes = PyTuple_GET_ITEM(args[1], 1);
    *arguments_ok = PyTuple_GET_ITEM(args[1], 2);
    *nothing = PyTuple_GET_ITEM(args[1], 3);
    if (!PyTuple_Check(keys) || PyTuple_GET_SIZE(keys) != K_COUNT || !PyTuple_Check(codes) ||
        PyTuple_GET_SIZE(codes) != C_COUNT || !PyCallable_Check(*arguments_ok) || !PyFrozenSet_Check(*nothing) ||
        !PyLong_CheckExact(PyTuple_GET_ITEM(args[1], 4)) || !PyTuple_Check(PyTuple_GET_ITEM(args[1], 5)) ||
        PyTuple_GET_SIZE(PyTuple_GET_ITEM(args[1], 5)) != C_COUNT) {
        PyErr_Format(PyExc_TypeError, "%s: a malformed table", name);
        return -1;
    }
    for (int i = 0; i < K_COUNT; i++) {
        k[i] = PyTuple_GET_ITEM(keys, i);
        if (!PyUnicode_CheckExact(k[i])) {
            PyErr_Format(PyExc_TypeError, "%s: the table's keys are strings", name);
            return -1;
        }
    }
    *covered = 0;
    for (int i = 0; i < C_COUNT; i++) {
        PyObject *code = PyTuple_GET_ITEM(codes, i);
        if (code != Py_None) {
            if (!PyUnicode_CheckExact(code)) {
                PyErr_Format(PyExc_TypeError, "%s: the table's codes are strings or None", name);
                return -1;
            }
            *covered |= BIT(i);
        }
    }
    *year = PyLong_AsLong(PyTuple_GET_ITEM(args[1], 4));
    if (*year == -1 && PyErr_Occurred())
        return -1;
    double now = PyFloat_AS_DOUBLE(args[2]);
    if (!(now > -1e15 && now < 1e15)) {
        PyErr_Format(PyExc_ValueError, "%s: now is not a plausible Unix time", name);
        return -1;
    }
#ifdef Py_GIL_DISABLED
    return 1;
#else
    return !PyDict_CheckExact(args[0]);
#endif
}

/* The frozenset of the codes in bad (those of the tuple codes that are not None), or the shared empty one; for one
 * code, the table's own frozenset of it (ones: a tuple parallel to codes, each frozenset({code}) or None), which
 * costs no allocation and whose hash is kept (the engine looks its answer up in memos). */
static PyObject *
code_set(PyObject *codes, PyObject *ones, int count, unsigned bad, PyObject *nothing)
{
    int first = -1, n = 0;
    for (int i = 0; i < count; i++) {
        if ((bad & BIT(i)) && PyTuple_GET_ITEM(codes, i) != Py_None) {
            if (first < 0)
                first = i;
            n++;
        }
    }
    if (n == 0)
        return Py_NewRef(nothing);
    if (n == 1) {
        PyObject *one = PyTuple_GET_ITEM(ones, first);
        if (PyFrozenSet_CheckExact(one) && PySet_GET_SIZE(one) == 1 &&
            PySet_Contains(one, PyTuple_GET_ITEM(codes, first)) == 1)
            return Py_NewRef(one);
        if (PyErr_Occurred())
            return NULL;
    }
    PyObject *found = PyFrozenSet_New(NULL);
    if (found == NULL)
        return NULL;
    for (int i = first; i < count; i++) {
        PyObject *code = PyTuple_GET_ITEM(codes, i);
        if (!(bad & BIT(i)) || code == Py_None)
            continue;
        if (PySet_Add(found, code) < 0) {
            Py_DECREF(found);
            return NULL;
        }
    }
    return found;
}

static PyObject *
culprits(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    PyObject *k[K_COUNT], *arguments_ok, *nothing;
    unsigned covered;
    long year;
    int unsure = read_table(args, nargs, "culprits", k, &covered, &arguments_ok, &nothing, &year);
    if (unsure != 0)
        return unsure < 0 ? NULL : Py_NewRef(Py_None);
    PyObject *doc = args[0];
    long long latest = (long long)floor(PyFloat_AS_DOUBLE(args[2])) + year;
    if (latest > 1000000000000LL)
        latest = 1000000000000LL;
    PyObject *to_test = PyList_New(0);
    if (to_test == NULL)
        return NULL;
    unsigned bad = 0;
    int rc = culprits_walk(k, covered, doc, latest, &bad, to_test);
    if (rc == 0 && (covered & BIT(C207))) {
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(to_test) && !(bad & BIT(C207)); j++) {
            PyObject *answer = PyObject_CallOneArg(arguments_ok, PyList_GET_ITEM(to_test, j));
            if (answer == NULL) {
                rc = -1;
                break;
            }
            int ok = PyObject_IsTrue(answer);
            Py_DECREF(answer);
            if (ok < 0) {
                rc = -1;
                break;
            }
            if (!ok)
                bad |= BIT(C207);
        }
    }
    Py_DECREF(to_test);
    if (rc < 0)
        return NULL;
    if (rc == UNSURE)
        Py_RETURN_NONE;
    return code_set(PyTuple_GET_ITEM(args[1], 1), PyTuple_GET_ITEM(args[1], 5), C_COUNT, bad, nothing);
}

/* ---- null_places(doc, table) -----------------------------------------------------------------------------------
 *
 * The nulls where the contract wants an optional field omitted, at the levels the fused pass reads: the document,
 * usage, each choice and each choice's message. table = (keys, levels): the strs "usage", "choices", "message",
 * and per level a dict of the keys whose null the contract refuses (each key -> what to list with it). Returns
 * [(loc, the object holding the null, levels[level][key])] in that order of levels (each object's nulls in its
 * keys' order), or None when unsure (a null under a key that is not an exact str, whose hash or equality may be
 * Python code). What is not an exact dict (usage, a choice, a message) or an exact list (choices) holds no null
 * place, as in rules._fast.NullPlaces.find. */

/* The nulls of node (an exact dict) under a key of keys, appended to found with loc = (a, b, c)[:n] + (key,):
 * 0, UNSURE, or -1 with an exception set. No Python code runs (exact str keys, exact dicts). */
static int
nulls_in(PyObject *node, PyObject *keys, PyObject *found, Py_ssize_t n, PyObject *a, PyObject *b, PyObject *c)
{
    if (PyDict_GET_SIZE(keys) == 0)
        return 0;
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(node, &pos, &key, &value)) {
        if (value != Py_None)
            continue;
        if (!PyUnicode_CheckExact(key))
            return UNSURE;
        PyObject *listed = PyDict_GetItemWithError(keys, key);
        if (listed == NULL) {
            if (PyErr_Occurred())
                return -1;
            continue;
        }
        PyObject *steps[4] = {a, b, c, NULL};
        steps[n] = key;
        PyObject *loc = PyTuple_New(n + 1);
        if (loc == NULL)
            return -1;
        for (Py_ssize_t i = 0; i <= n; i++)
            PyTuple_SET_ITEM(loc, i, Py_NewRef(steps[i]));
        PyObject *entry = PyTuple_Pack(3, loc, node, listed);
        Py_DECREF(loc);
        if (entry == NULL || PyList_Append(found, entry) < 0) {
            Py_XDECREF(entry);
            return -1;
        }
        Py_DECREF(entry);
    }
    return 0;
}

static int
nulls_walk(PyObject **k, PyObject **levels, PyObject *doc, PyObject *found)
{
    int r = nulls_in(doc, levels[0], found, 0, NULL, NULL, NULL);
    if (r != 0)
        return r;
    PyObject *usage = PyDict_GetItemWithError(doc, k[0]);
    if (usage == NULL && PyErr_Occurred())
        return -1;
    if (usage != NULL && PyDict_CheckExact(usage) && (r = nulls_in(usage, levels[3], found, 1, k[0], NULL, NULL)) != 0)
        return r;
    if (PyDict_GET_SIZE(levels[1]) == 0 && PyDict_GET_SIZE(levels[2]) == 0)
        return 0;
    PyObject *items = PyDict_GetItemWithError(doc, k[1]);
    if (items == NULL || !PyList_CheckExact(items))
        return PyErr_Occurred() ? -1 : 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *choice = PyList_GET_ITEM(items, i);
        if (!PyDict_CheckExact(choice))
            continue;
        PyObject *msg = PyDict_GetItemWithError(choice, k[2]);
        if (msg == NULL && PyErr_Occurred())
            return -1;
        PyObject *index = PyLong_FromSsize_t(i);
        if (index == NULL)
            return -1;
        r = nulls_in(choice, levels[1], found, 2, k[1], index, NULL);
        if (r == 0 && msg != NULL && PyDict_CheckExact(msg))
            r = nulls_in(msg, levels[2], found, 3, k[1], index, k[2]);
        Py_DECREF(index);
        if (r != 0)
            return r;
    }
    return 0;
}

static PyObject *
null_places(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    PyObject *table = nargs == 2 ? args[1] : NULL;
    if (table == NULL || !PyTuple_CheckExact(table) || PyTuple_GET_SIZE(table) != 2 ||
        !PyTuple_CheckExact(PyTuple_GET_ITEM(table, 0)) || PyTuple_GET_SIZE(PyTuple_GET_ITEM(table, 0)) != 3 ||
        !PyTuple_CheckExact(PyTuple_GET_ITEM(table, 1)) || PyTuple_GET_SIZE(PyTuple_GET_ITEM(table, 1)) != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "null_places(doc, table) takes a document and a table ((3 key strs), (4 dicts))");
        return NULL;
    }
    PyObject *k[3], *levels[4];
    for (int i = 0; i < 3; i++) {
        k[i] = PyTuple_GET_ITEM(PyTuple_GET_ITEM(table, 0), i);
        if (!PyUnicode_CheckExact(k[i])) {
            PyErr_SetString(PyExc_TypeError, "null_places: the table's keys are strs");
            return NULL;
        }
    }
    for (int i = 0; i < 4; i++) {
        levels[i] = PyTuple_GET_ITEM(PyTuple_GET_ITEM(table, 1), i);
        if (!PyDict_CheckExact(levels[i])) {
            PyErr_SetString(PyExc_TypeError, "null_places: the table's levels are dicts");
            return NULL;
        }
    }
#ifdef Py_GIL_DISABLED
    Py_RETURN_NONE; /* another thread may change the document under the borrowed references */
#endif
    if (!PyDict_CheckExact(args[0]))
        Py_RETURN_NONE;
    PyObject *found = PyList_New(0);
    if (found == NULL)
        return NULL;
    int rc = nulls_walk(k, levels, args[0], found);
    if (rc != 0) {
        Py_DECREF(found);
        return rc < 0 ? NULL : Py_NewRef(Py_None);
    }
    return found;
}

/* ---- findings(doc, table, now, codes) --------------------------------------------------------------------------
 *
 * The hits of the covered rules culprits named (codes: its frozenset), when each is one this builds: CC201 and CC203
 * (usage's counts), CC209 (created), CC210 and CC211 (a blank id or model), which have at most one hit, built from a
 * few numbers or a string; CC206 (finish_reason 'stop' beside tool calls) and CC216 (a tool-call id not Mistral's),
 * one hit per choice or per call. Same table and now as culprits'. Returns a tuple of (code, loc, message, actual,
 * expected), each built as the rule function builds its hit (rules/consistency.py: the message texts are restated
 * here, and tests/test_speedups.py holds the two equal), in document order (outcome.sort_in_doc_order's); or None
 * when it has no answer: a code it does not build, more than FOUND_MAX hits, a one-hit rule without its hit, or a
 * value of a type the rule reads in a way this does not restate (a str, int, list or dict subclass, an int past 64
 * bits). The engine then runs the rules.
 */

/* format (ASCII, at most ~180 characters) with each "%lld" replaced by the next of values, as a str: what
 * PyUnicode_FromFormat builds, at a fifth of its cost (it parses the format and grows a writer). */
static PyObject *
ascii_message(const char *format, long long x, long long y)
{
    char out[256];
    size_t n = 0;
    int used = 0;
    const char *f = format;
    for (;;) {
        const char *at = strstr(f, "%lld");
        size_t len = at == NULL ? strlen(f) : (size_t)(at - f);
        if (n + len + 24 > sizeof(out)) {
            PyErr_SetString(PyExc_SystemError, "ascii_message: the message is too long");
            return NULL;
        }
        memcpy(out + n, f, len);
        n += len;
        if (at == NULL)
            break;
        long long v = used++ == 0 ? x : y;
        unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
        char digits[24];
        int d = 0;
        do {
            digits[d++] = (char)('0' + (int)(u % 10));
            u /= 10;
        } while (u != 0);
        if (v < 0)
            out[n++] = '-';
        while (d > 0)
            out[n++] = digits[--d];
        f = at + 4;
    }
    PyObject *text = PyUnicode_New((Py_ssize_t)n, 127);
    if (text != NULL)
        memcpy(PyUnicode_1BYTE_DATA(text), out, n);
    return text;
}

/* A hit's four fields, after its code when code is not NULL; steals loc, message and expected (any may be NULL
 * after a failed call: then NULL). */
static PyObject *
hit_fields4(PyObject *code, PyObject *loc, PyObject *message, PyObject *actual, PyObject *expected)
{
    PyObject *out = NULL;
    if (loc != NULL && message != NULL && expected != NULL)
        out = code == NULL ? PyTuple_Pack(4, loc, message, actual, expected)
                           : PyTuple_Pack(5, code, loc, message, actual, expected);
    Py_XDECREF(loc);
    Py_XDECREF(message);
    Py_XDECREF(expected);
    return out;
}

static PyObject *
usage_finding(PyObject **k, PyObject *doc, int below, PyObject *code)
{
    PyObject *usage = PyDict_GetItemWithError(doc, k[K_USAGE]);
    if (usage == NULL || !PyDict_CheckExact(usage))
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    PyObject *pv = PyDict_GetItemWithError(usage, k[K_PROMPT]);
    PyObject *cv = pv == NULL && PyErr_Occurred() ? NULL : PyDict_GetItemWithError(usage, k[K_COMPLETION]);
    PyObject *tv = cv == NULL && PyErr_Occurred() ? NULL : PyDict_GetItemWithError(usage, k[K_TOTAL]);
    if (tv == NULL)
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    long long p = 0, c = 0, t = 0, sum = 0;
    int rp = small_int(pv, &p), rc = small_int(cv, &c), rt = small_int(tv, &t);
    if (rp == UNSURE || rc == UNSURE || rt != 1)
        Py_RETURN_NONE;
    PyObject *loc = PyTuple_Pack(2, k[K_USAGE], k[K_TOTAL]);
    if (loc == NULL)
        return NULL;
    if (!below) { /* CC201: the sum differs, and the total is not below a part (CC203's) */
        if (rp != 1 || rc != 1 || __builtin_add_overflow(p, c, &sum) || t == sum || t < p || t < c) {
            Py_DECREF(loc);
            Py_RETURN_NONE;
        }
        return hit_fields4(code, loc,
                           ascii_message("total_tokens is %lld but prompt_tokens + completion_tokens is %lld.", t, sum),
                           tv, PyLong_FromLongLong(sum));
    }
    /* CC203: the total below the larger of the parts that are integers */
    long long part = rp == 1 && rc == 1 ? (p > c ? p : c) : rp == 1 ? p : c;
    if ((rp != 1 && rc != 1) || t >= part) {
        Py_DECREF(loc);
        Py_RETURN_NONE;
    }
    return hit_fields4(code, loc, ascii_message("total_tokens is %lld, smaller than one of its parts (%lld).", t, part),
                       tv, Py_NewRef(Py_None));
}

static PyObject *
created_finding(PyObject **k, PyObject *doc, double now, long year, PyObject *code)
{
    PyObject *value = PyDict_GetItemWithError(doc, k[K_CREATED]);
    long long v = 0;
    if (value == NULL || small_int(value, &v) != 1)
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    const char *format;
    if (v < 0)
        format = "created is %lld; a Unix time cannot be negative.";
    else if (v > 1000000000000LL)
        format = "created is %lld, which looks like milliseconds; expected seconds.";
    else if (v > (long long)now + year) /* (int(time.time()): now is within +-1e15, checked) */
        format = "created is %lld, more than a year in the future.";
    else if (v < 1000000000LL)
        format = "created is %lld, before 2001; expected the Unix time of the response.";
    else
        Py_RETURN_NONE;
    return hit_fields4(code, PyTuple_Pack(1, k[K_CREATED]), ascii_message(format, v, 0), value, Py_NewRef(Py_None));
}

static PyObject *
blank_finding(PyObject **k, PyObject *doc, int key, const char *message, PyObject *code)
{
    PyObject *value = PyDict_GetItemWithError(doc, k[key]);
    if (value == NULL || blank(value) != 1)
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    return hit_fields4(code, PyTuple_Pack(1, k[key]), ascii_message(message, 0, 0), value, Py_NewRef(Py_None));
}

#define FOUND_MAX 100 /* (outcome.MAX_PER_RULE: past it, a report lists some and counts the rest) */
#define FOUND_DEPTH 6

/* A hit and where it is: each step of its location, a key of an exact dict (in[i], at[i]) or a list index (in[i]
 * NULL, key[i]); the dicts' positions are read only when there are hits to sort (outcome.order_key's). */
typedef struct {
    PyObject *hit; /* (code, loc, message, actual, expected) */
    int code;      /* enum C: codes sort as their numbers do */
    int depth;
    PyObject *in[FOUND_DEPTH]; /* (borrowed: no Python code runs while findings holds them) */
    PyObject *at[FOUND_DEPTH];
    Py_ssize_t key[FOUND_DEPTH];
} found_t;

/* The position of key among dict's keys (an exact dict whose keys up to it are exact strs), or -1 (unsure). */
static Py_ssize_t
key_at(PyObject *dict, PyObject *key)
{
    Py_ssize_t pos = 0, at = 0;
    PyObject *k, *v;
    while (PyDict_Next(dict, &pos, &k, &v)) {
        if (!PyUnicode_CheckExact(k))
            return -1;
        if (same_text(k, key))
            return at;
        at++;
    }
    return -1;
}

/* Adds hit (stolen; NULL after a failed build) of code, at the steps in and at (see found_t): 0, UNSURE (too many),
 * or -1 with an exception set. */
static int
found_add(found_t *found, int *n, int code, PyObject *hit, PyObject *const *in, PyObject *const *at,
          const Py_ssize_t *key, int depth)
{
    if (hit == NULL)
        return -1;
    if (*n >= FOUND_MAX) {
        Py_DECREF(hit);
        return UNSURE;
    }
    found_t *f = &found[(*n)++];
    f->hit = hit;
    f->code = code;
    f->depth = depth;
    memcpy(f->in, in, sizeof(PyObject *) * (size_t)depth);
    memcpy(f->at, at, sizeof(PyObject *) * (size_t)depth);
    memcpy(f->key, key, sizeof(Py_ssize_t) * (size_t)depth);
    return 0;
}

/* A one-hit rule's hit (the builders' answer: (code, loc, message, actual, expected) or None) at doc[top] or
 * doc[top][below]: 0, UNSURE (None: no hit, or unsure), or -1 with an exception set. */
static int
found_one(found_t *found, int *n, int code, PyObject *doc, PyObject *hit, PyObject *top, PyObject *below)
{
    if (hit == NULL)
        return -1;
    if (hit == Py_None) {
        Py_DECREF(hit);
        return UNSURE;
    }
    PyObject *in[2] = {doc, NULL}, *at[2] = {top, below};
    Py_ssize_t key[2] = {0, 0};
    if (below != NULL) {
        in[1] = PyDict_GetItemWithError(doc, top); /* (an exact dict: the builder read it) */
        if (in[1] == NULL || !PyDict_CheckExact(in[1])) {
            Py_DECREF(hit);
            return PyErr_Occurred() ? -1 : UNSURE;
        }
    }
    return found_add(found, n, code, hit, in, at, key, below == NULL ? 1 : 2);
}

/* CC216's message: "Tool-call id {cid!r} is not 9 ASCII letters or digits." */
static PyObject *
id_message(PyObject *cid)
{
    return repr_between("Tool-call id ", cid, " is not 9 ASCII letters or digits.");
}

/* CC206 (want206) and CC216 (want216) on every choice, as the rules read them through rules._util.tool_calls: 0,
 * UNSURE, or -1 with an exception set. */
static int
calls_found(PyObject **k, PyObject **codes, PyObject *doc, int want206, int want216, found_t *found, int *n)
{
    PyObject *list = PyDict_GetItemWithError(doc, k[K_CHOICES]);
    if (list == NULL)
        return PyErr_Occurred() ? -1 : 0;
    if (!PyList_CheckExact(list))
        return PyList_Check(list) ? UNSURE : 0;
    /* the steps to a finish reason (3) and to a call's id (6) */
    PyObject *in[FOUND_DEPTH] = {doc, NULL, NULL, NULL, NULL, NULL};
    PyObject *at[FOUND_DEPTH] = {k[K_CHOICES], NULL, k[K_MESSAGE], k[K_TOOL_CALLS], NULL, k[K_ID]};
    Py_ssize_t key[FOUND_DEPTH] = {0, 0, 0, 0, 0, 0};
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        PyObject *choice = PyList_GET_ITEM(list, i);
        if (!PyDict_CheckExact(choice)) {
            if (PyDict_Check(choice))
                return UNSURE;
            continue;
        }
        PyObject *msg = PyDict_GetItemWithError(choice, k[K_MESSAGE]);
        if (msg == NULL && PyErr_Occurred())
            return -1;
        if (msg == NULL || !PyDict_Check(msg))
            continue;
        if (!PyDict_CheckExact(msg))
            return UNSURE;
        PyObject *calls = PyDict_GetItemWithError(msg, k[K_TOOL_CALLS]);
        if (calls == NULL && PyErr_Occurred())
            return -1;
        if (calls == NULL || !PyList_Check(calls)) { /* (a truthy non-list holds no call the rules read) */
            if (calls != NULL && !plain_value(calls))
                return UNSURE;
            continue;
        }
        if (!PyList_CheckExact(calls))
            return UNSURE;
        key[1] = i;
        in[2] = choice;
        in[3] = msg;
        int has_call = 0, rc;
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(calls); j++) {
            PyObject *call = PyList_GET_ITEM(calls, j);
            if (!PyDict_CheckExact(call)) {
                if (PyDict_Check(call))
                    return UNSURE;
                continue;
            }
            has_call = 1;
            if (!want216)
                continue;
            PyObject *cid = PyDict_GetItemWithError(call, k[K_ID]);
            if (cid == NULL && PyErr_Occurred())
                return -1;
            if (cid == NULL || !PyUnicode_Check(cid))
                continue;
            int is_blank = blank(cid);
            if (is_blank != 0) {
                if (is_blank == UNSURE)
                    return UNSURE;
                continue;
            }
            int good = PyUnicode_GET_LENGTH(cid) == 9 && PyUnicode_IS_ASCII(cid);
            if (good) {
                const Py_UCS1 *c = PyUnicode_1BYTE_DATA(cid);
                for (int m = 0; m < 9 && good; m++)
                    good = (c[m] >= '0' && c[m] <= '9') || (c[m] >= 'a' && c[m] <= 'z') || (c[m] >= 'A' && c[m] <= 'Z');
            }
            if (good)
                continue;
            key[4] = j;
            in[5] = call;
            PyObject *pos = PyLong_FromSsize_t(i), *tpos = PyLong_FromSsize_t(j);
            PyObject *loc = pos == NULL || tpos == NULL ? NULL
                                                        : PyTuple_Pack(6, k[K_CHOICES], pos, k[K_MESSAGE],
                                                                       k[K_TOOL_CALLS], tpos, k[K_ID]);
            Py_XDECREF(pos);
            Py_XDECREF(tpos);
            PyObject *message = loc == NULL ? NULL : id_message(cid);
            PyObject *hit = message == NULL ? NULL : PyTuple_Pack(5, codes[C216], loc, message, cid, Py_None);
            Py_XDECREF(loc);
            Py_XDECREF(message);
            if ((rc = found_add(found, n, C216, hit, in, at, key, 6)) != 0)
                return rc;
        }
        if (!want206 || !has_call)
            continue;
        PyObject *finish = PyDict_GetItemWithError(choice, k[K_FINISH]);
        if (finish == NULL) {
            if (PyErr_Occurred())
                return -1;
            continue;
        }
        if (!plain_value(finish))
            return UNSURE; /* (== 'stop' could run Python code) */
        if (!is_str(finish, k[V_STOP]))
            continue;
        PyObject *pos = PyLong_FromSsize_t(i);
        PyObject *loc = pos == NULL ? NULL : PyTuple_Pack(3, k[K_CHOICES], pos, k[K_FINISH]);
        Py_XDECREF(pos);
        PyObject *message = loc == NULL ? NULL
                                        : ascii_message("finish_reason is 'stop' although the message has tool calls; "
                                                        "expected 'tool_calls'.",
                                                        0, 0);
        PyObject *hit = message == NULL ? NULL : PyTuple_Pack(5, codes[C206], loc, message, k[V_STOP], k[V_TOOL_CALLS]);
        Py_XDECREF(loc);
        Py_XDECREF(message);
        PyObject *to_finish[3] = {doc, NULL, choice}, *named[3] = {k[K_CHOICES], NULL, k[K_FINISH]};
        if ((rc = found_add(found, n, C206, hit, to_finish, named, key, 3)) != 0)
            return rc;
    }
    return 0;
}

/* Whether a comes before b: outcome.sort_in_doc_order's key (each step's position, a prefix first; then the code). */
static int
found_before(const found_t *a, const found_t *b)
{
    int depth = a->depth < b->depth ? a->depth : b->depth;
    for (int i = 0; i < depth; i++) {
        if (a->key[i] != b->key[i])
            return a->key[i] < b->key[i];
    }
    if (a->depth != b->depth)
        return a->depth < b->depth;
    return a->code < b->code;
}

/* The hits in document order: each one's key placed, then an insertion sort (a few hits, mostly in order already;
 * stable). 0, or UNSURE when a key is not placed. */
static int
found_sort(found_t *found, int n)
{
    for (int i = 0; i < n; i++) {
        found_t *f = &found[i];
        for (int d = 0; d < f->depth; d++) {
            if (f->in[d] != NULL && (f->key[d] = key_at(f->in[d], f->at[d])) < 0)
                return UNSURE;
        }
    }
    for (int i = 1; i < n; i++) {
        found_t f = found[i];
        int j = i;
        while (j > 0 && found_before(&f, &found[j - 1])) {
            found[j] = found[j - 1];
            j--;
        }
        found[j] = f;
    }
    return 0;
}

static PyObject *
findings(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 4 || !PyFrozenSet_CheckExact(args[3])) {
        PyErr_SetString(PyExc_TypeError,
                        "findings(doc, table, now, codes) takes a document, a table, a float and a frozenset");
        return NULL;
    }
    PyObject *k[K_COUNT], *arguments_ok, *nothing;
    unsigned covered;
    long year;
    int unsure = read_table(args, 3, "findings", k, &covered, &arguments_ok, &nothing, &year);
    if (unsure != 0)
        return unsure < 0 ? NULL : Py_NewRef(Py_None);
    PyObject *codes[C_COUNT];
    PyObject *names = PyTuple_GET_ITEM(args[1], 1), *ones = PyTuple_GET_ITEM(args[1], 5);
    for (int i = 0; i < C_COUNT; i++)
        codes[i] = PyTuple_GET_ITEM(names, i);
    /* want: the codes asked that this builds; any other asked (the sizes differ) and the rules decide. One code
     * asked is usually the table's own frozenset of it (culprits' answer, see code_set). */
    static const int built[] = {C201, C203, C206, C209, C210, C211, C216};
    const size_t n_built = sizeof(built) / sizeof(built[0]);
    unsigned want = 0;
    Py_ssize_t asked = 0;
    for (size_t i = 0; i < n_built && asked == 0; i++) {
        if (PyTuple_GET_ITEM(ones, built[i]) == args[3]) {
            want = BIT(built[i]);
            asked = 1;
        }
    }
    if (asked == 0) {
        for (size_t i = 0; i < n_built; i++) {
            if (codes[built[i]] == Py_None)
                continue;
            int in = PySet_Contains(args[3], codes[built[i]]);
            if (in < 0)
                return NULL;
            if (in) {
                want |= BIT(built[i]);
                asked++;
            }
        }
    }
    if (asked != PySet_GET_SIZE(args[3]))
        Py_RETURN_NONE;
    PyObject *doc = args[0];
    found_t found[FOUND_MAX];
    int n = 0, rc = 0;
    if (rc == 0 && (want & BIT(C201)))
        rc = found_one(found, &n, C201, doc, usage_finding(k, doc, 0, codes[C201]), k[K_USAGE], k[K_TOTAL]);
    if (rc == 0 && (want & BIT(C203)))
        rc = found_one(found, &n, C203, doc, usage_finding(k, doc, 1, codes[C203]), k[K_USAGE], k[K_TOTAL]);
    if (rc == 0 && (want & BIT(C209)))
        rc = found_one(found, &n, C209, doc,
                       created_finding(k, doc, PyFloat_AS_DOUBLE(args[2]), year, codes[C209]), k[K_CREATED], NULL);
    if (rc == 0 && (want & BIT(C210)))
        rc = found_one(found, &n, C210, doc, blank_finding(k, doc, K_ID, "id is empty.", codes[C210]), k[K_ID], NULL);
    if (rc == 0 && (want & BIT(C211)))
        rc = found_one(found, &n, C211, doc, blank_finding(k, doc, K_MODEL, "model is empty.", codes[C211]),
                       k[K_MODEL], NULL);
    if (rc == 0 && (want & (BIT(C206) | BIT(C216))))
        rc = calls_found(k, codes, doc, (want & BIT(C206)) != 0, (want & BIT(C216)) != 0, found, &n);
    if (rc == 0 && n > 1)
        rc = found_sort(found, n);
    PyObject *out = rc == 0 ? PyTuple_New(n) : NULL;
    if (out != NULL) {
        for (int i = 0; i < n; i++)
            PyTuple_SET_ITEM(out, i, found[i].hit);
        return out;
    }
    for (int i = 0; i < n; i++)
        Py_DECREF(found[i].hit);
    if (rc == -1)
        return NULL;
    Py_RETURN_NONE;
}

/* ---- suspects(doc, table, now) -------------------------------------------------------------------------------
 *
 * rules._fast.suspects in C: the coarse pass for any document (the contract may refuse it), same table as
 * culprits'. Returns the frozenset of the codes it names (those the table's codes name), or None when a value is of
 * a type the Python function reads in a way this walk does not restate (a str or int subclass, an int past 64
 * bits, a value whose truth is not plain). */
static int
suspects_walk(PyObject **k, PyObject *doc, long long now, unsigned *out)
{
#define GET(var, node, key)                                                                                          \
    PyObject *var = PyDict_GetItemWithError((node), k[key]);                                                        \
    if (var == NULL && PyErr_Occurred())                                                                             \
        return -1;
    long long v = 0, p = 0, c = 0, t = 0;
    int r;
    GET(usage, doc, K_USAGE)
    if (usage != NULL && PyDict_CheckExact(usage)) {
        GET(pv, usage, K_PROMPT)
        GET(cv, usage, K_COMPLETION)
        GET(tv, usage, K_TOTAL)
        int rp = small_int(pv, &p), rc = small_int(cv, &c), rt = small_int(tv, &t);
        if (rp == UNSURE || rc == UNSURE || rt == UNSURE)
            return UNSURE;
        long long sum;
        if (!(rp == 1 && rc == 1 && rt == 1 && p >= 0 && c >= 0 && !__builtin_add_overflow(p, c, &sum) && t == sum))
            *out |= BIT(C201) | BIT(C203);
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        int negative = 0;
        while (!negative && PyDict_Next(usage, &pos, &key, &value)) {
            if ((r = small_int(value, &v)) == UNSURE)
                return UNSURE;
            if (r == 1) {
                negative = v < 0;
            } else if (PyDict_CheckExact(value)) {
                PyObject *k2, *v2;
                Py_ssize_t pos2 = 0;
                while (!negative && PyDict_Next(value, &pos2, &k2, &v2)) {
                    if ((r = small_int(v2, &v)) == UNSURE)
                        return UNSURE;
                    negative = r == 1 && v < 0;
                }
            }
        }
        if (negative)
            *out |= BIT(C202);
        GET(details, usage, K_DETAILS)
        if (details != NULL && PyDict_CheckExact(details)) {
            int has = PyDict_Contains(details, k[K_REASONING_TOKENS]);
            if (has < 0)
                return -1;
            if (has)
                *out |= BIT(C217);
        }
    } else if (usage != NULL && PyDict_Check(usage)) {
        return UNSURE;
    }
    GET(created, doc, K_CREATED)
    if ((r = small_int(created, &v)) == UNSURE || (r == 1 && !(v >= 1000000000LL && v <= now)))
        *out |= BIT(C209); /* (past 64 bits: out of range either way) */
    GET(id, doc, K_ID)
    if ((r = blank(id)) == UNSURE)
        return UNSURE;
    if (r)
        *out |= BIT(C210);
    GET(model, doc, K_MODEL)
    if ((r = blank(model)) == UNSURE)
        return UNSURE;
    if (r)
        *out |= BIT(C211);
    GET(kind, doc, K_OBJECT)
    if (kind != NULL && PyUnicode_Check(kind) && !PyUnicode_CheckExact(kind))
        return UNSURE;
    int has_error = PyDict_Contains(doc, k[K_ERROR]);
    if (has_error < 0)
        return -1;
    if (!is_str(kind, k[V_CHAT_COMPLETION]) || has_error)
        *out |= BIT(C212) | BIT(C503);
    GET(items, doc, K_CHOICES)
    if (items != NULL && PyList_CheckExact(items)) {
        Py_ssize_t n = PyList_GET_SIZE(items);
        if (n == 0)
            *out |= BIT(C214);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *choice = PyList_GET_ITEM(items, i);
            if (!PyDict_CheckExact(choice)) {
                if (PyDict_Check(choice))
                    return UNSURE;
                continue;
            }
            GET(index, choice, K_INDEX)
            if (small_int(index, &v) != 1 || v != i)
                *out |= BIT(C204); /* (not an int, a bool, past 64 bits, or not its position) */
            GET(msg, choice, K_MESSAGE)
            PyObject *calls = NULL;
            if (msg == NULL || !PyDict_CheckExact(msg)) {
                if (msg != NULL && PyDict_Check(msg))
                    return UNSURE;
                *out |= BIT(C213);
            } else {
                calls = PyDict_GetItemWithError(msg, k[K_TOOL_CALLS]);
                if (calls == NULL && PyErr_Occurred())
                    return -1;
                GET(content, msg, K_CONTENT)
                if (content != NULL && PyUnicode_CheckExact(content)) {
                    Py_ssize_t at = PyUnicode_Find(content, k[V_THINK], 0, PyUnicode_GET_LENGTH(content), 1);
                    if (at == -2)
                        return -1;
                    if (at >= 0)
                        *out |= BIT(C218) | BIT(C219);
                } else if (content != NULL && content != Py_None) {
                    if (PyUnicode_Check(content))
                        return UNSURE;
                    *out |= BIT(C220);
                    if (PyList_CheckExact(content)) {
                        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(content); j++) {
                            PyObject *part = PyList_GET_ITEM(content, j);
                            if (!PyDict_CheckExact(part)) {
                                if (PyDict_Check(part))
                                    return UNSURE;
                                continue;
                            }
                            GET(text, part, K_TEXT)
                            if (text == NULL || !PyUnicode_Check(text))
                                continue;
                            if (!PyUnicode_CheckExact(text))
                                return UNSURE;
                            Py_ssize_t at = PyUnicode_Find(text, k[V_THINK], 0, PyUnicode_GET_LENGTH(text), 1);
                            if (at == -2)
                                return -1;
                            if (at >= 0)
                                *out |= BIT(C218) | BIT(C219);
                        }
                    } else if (PyList_Check(content)) {
                        return UNSURE;
                    }
                }
                for (int key = K_REASONING_CONTENT; key <= K_REASONING_DETAILS; key++) {
                    int has = PyDict_Contains(msg, k[key]);
                    if (has < 0)
                        return -1;
                    if (has)
                        *out |= BIT(C220);
                }
            }
            int some = 0;
            if (calls != NULL) {
                if (!plain_value(calls))
                    return UNSURE;
                if ((some = PyObject_IsTrue(calls)) < 0)
                    return -1;
            }
            if (!some) {
                GET(finish, choice, K_FINISH)
                if (finish != NULL && PyUnicode_Check(finish) && !PyUnicode_CheckExact(finish))
                    return UNSURE;
                some = is_str(finish, k[V_TOOL_CALLS]);
            }
            if (some)
                *out |= BIT(C205) | BIT(C206) | BIT(C207) | BIT(C208) | BIT(C215) | BIT(C216);
        }
    } else if (items != NULL && items != Py_None) {
        if (PyList_Check(items))
            return UNSURE;
        *out |= BIT(C214);
    }
    return 0;
#undef GET
}

static PyObject *
suspects(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    PyObject *k[K_COUNT], *arguments_ok, *nothing;
    unsigned covered;
    long year;
    int unsure = read_table(args, nargs, "suspects", k, &covered, &arguments_ok, &nothing, &year);
    if (unsure != 0)
        return unsure < 0 ? NULL : Py_NewRef(Py_None);
    unsigned out = 0;
    int rc = suspects_walk(k, args[0], (long long)floor(PyFloat_AS_DOUBLE(args[2])), &out);
    if (rc < 0)
        return NULL;
    if (rc == UNSURE)
        Py_RETURN_NONE;
    return code_set(PyTuple_GET_ITEM(args[1], 1), PyTuple_GET_ITEM(args[1], 5), C_COUNT, out, nothing);
}

/* ---- request_culprits(doc, req, table) --------------------------------------------------------------------------
 *
 * rules._fast.request_culprits in C: the request rules every request meets (CC401, CC402, CC403, CC407, CC411)
 * that may have a hit. table = (keys, codes, nothing, ones): the key and value strings of enum R, the five codes
 * (None where not covered), the shared empty frozenset, each code's one-code frozenset. None when unsure (a request that is not a dict, a subclass of
 * str, an int past 64 bits, a value whose truth is not plain). */

enum R { R_N, R_MAX_COMPLETION, R_MAX, R_MODEL, R_CHOICES, R_USAGE, R_COMPLETION, R_FINISH, R_LENGTH, R_MESSAGE,
         R_TOOL_CALLS, R_COUNT };
enum { Q401, Q402, Q403, Q407, Q411, Q_COUNT };

static int
request_walk(PyObject **k, PyObject *doc, PyObject *req, unsigned *bad, long long *asked, long long *received)
{
    long long n = 1, low = -1, high = -1, used = -1, v;
    int r, has_limit = 0, has_used = 0, negative = 0;
    PyObject *value = PyDict_GetItemWithError(req, k[R_N]);
    if (value == NULL && PyErr_Occurred())
        return -1;
    if ((r = small_int(value, &v)) == UNSURE)
        return UNSURE;
    if (r == 1 && v >= 1)
        n = v;
    /* both limits when both are set (which binds is not defined): the smaller for CC403, the larger for CC402 */
    for (int key = R_MAX_COMPLETION; key <= R_MAX; key++) {
        value = PyDict_GetItemWithError(req, k[key]);
        if (value == NULL && PyErr_Occurred())
            return -1;
        if ((r = small_int(value, &v)) == UNSURE)
            return UNSURE;
        if (r != 1)
            continue;
        if (v < 0)
            negative = 1;
        else if (!has_limit) {
            low = high = v;
            has_limit = 1;
        } else if (v < low)
            low = v;
        else if (v > high)
            high = v;
    }
    if (negative)
        has_limit = 0;
    int is_object = PyDict_Check(doc);
    if (is_object && !PyDict_CheckExact(doc))
        return UNSURE;
    PyObject *items = NULL;
    if (is_object) {
        PyObject *usage = PyDict_GetItemWithError(doc, k[R_USAGE]);
        if (usage == NULL && PyErr_Occurred())
            return -1;
        if (usage != NULL && PyDict_Check(usage)) {
            if (!PyDict_CheckExact(usage))
                return UNSURE;
            value = PyDict_GetItemWithError(usage, k[R_COMPLETION]);
            if (value == NULL && PyErr_Occurred())
                return -1;
            if ((r = small_int(value, &used)) == UNSURE)
                return UNSURE;
            has_used = r == 1;
        }
        items = PyDict_GetItemWithError(doc, k[R_CHOICES]);
        if (items == NULL && PyErr_Occurred())
            return -1;
    }
    if (has_limit && has_used) {
        long long cap;
        if (__builtin_mul_overflow(high, n, &cap))
            return UNSURE;
        if (used > cap)
            *bad |= BIT(Q402);
    }
    if (items != NULL && PyList_Check(items)) {
        if (!PyList_CheckExact(items))
            return UNSURE;
        Py_ssize_t count = PyList_GET_SIZE(items);
        if (count > 0 && count != n) {
            *bad |= BIT(Q401);
            *asked = n;
            *received = (long long)count;
        }
        int short_ = count != 1 || (has_used && has_limit && used < low);
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *choice = PyList_GET_ITEM(items, i);
            if (!PyDict_Check(choice))
                continue;
            if (!PyDict_CheckExact(choice))
                return UNSURE;
            if (short_ && has_limit) {
                PyObject *finish = PyDict_GetItemWithError(choice, k[R_FINISH]);
                if (finish == NULL && PyErr_Occurred())
                    return -1;
                if (finish != NULL && PyUnicode_Check(finish) && !PyUnicode_CheckExact(finish))
                    return UNSURE;
                if (is_str(finish, k[R_LENGTH]))
                    *bad |= BIT(Q403);
            }
            PyObject *msg = PyDict_GetItemWithError(choice, k[R_MESSAGE]);
            if (msg == NULL && PyErr_Occurred())
                return -1;
            if (msg != NULL && PyDict_Check(msg)) {
                if (!PyDict_CheckExact(msg))
                    return UNSURE;
                PyObject *calls = PyDict_GetItemWithError(msg, k[R_TOOL_CALLS]);
                if (calls == NULL && PyErr_Occurred())
                    return -1;
                if (calls != NULL) {
                    if (!plain_value(calls))
                        return UNSURE;
                    if ((r = PyObject_IsTrue(calls)) < 0)
                        return -1;
                    if (r)
                        *bad |= BIT(Q407);
                }
            }
        }
    }
    PyObject *wanted = PyDict_GetItemWithError(req, k[R_MODEL]);
    if (wanted == NULL && PyErr_Occurred())
        return -1;
    if (wanted != NULL && PyUnicode_Check(wanted) && is_object) {
        PyObject *got = PyDict_GetItemWithError(doc, k[R_MODEL]);
        if (got == NULL && PyErr_Occurred())
            return -1;
        if (got != NULL && PyUnicode_Check(got)) {
            if (!PyUnicode_CheckExact(got) || !PyUnicode_CheckExact(wanted))
                return UNSURE;
            if (PyUnicode_Compare(got, wanted) != 0)
                *bad |= BIT(Q411);
        }
    }
    return 0;
}

/* The parts of request_culprits' table, checked, in k (enum R) and *codes: 0, or -1 with an exception set. */
static int
read_request_table(PyObject *table, const char *name, PyObject **k, PyObject **codes)
{
    if (!PyTuple_Check(table) || PyTuple_GET_SIZE(table) != 4 || !PyTuple_Check(PyTuple_GET_ITEM(table, 3)) ||
        PyTuple_GET_SIZE(PyTuple_GET_ITEM(table, 3)) != Q_COUNT) {
        PyErr_Format(PyExc_TypeError, "%s: a malformed table", name);
        return -1;
    }
    PyObject *keys = PyTuple_GET_ITEM(table, 0), *nothing = PyTuple_GET_ITEM(table, 2);
    *codes = PyTuple_GET_ITEM(table, 1);
    if (!PyTuple_Check(keys) || PyTuple_GET_SIZE(keys) != R_COUNT || !PyTuple_Check(*codes) ||
        PyTuple_GET_SIZE(*codes) != Q_COUNT || !PyFrozenSet_Check(nothing)) {
        PyErr_Format(PyExc_TypeError, "%s: a malformed table", name);
        return -1;
    }
    for (int i = 0; i < R_COUNT; i++) {
        k[i] = PyTuple_GET_ITEM(keys, i);
        if (!PyUnicode_CheckExact(k[i])) {
            PyErr_Format(PyExc_TypeError, "%s: the table's keys are strings", name);
            return -1;
        }
    }
    for (int i = 0; i < Q_COUNT; i++) {
        PyObject *code = PyTuple_GET_ITEM(*codes, i);
        if (code != Py_None && !PyUnicode_CheckExact(code)) {
            PyErr_Format(PyExc_TypeError, "%s: the table's codes are strings or None", name);
            return -1;
        }
    }
    return 0;
}

/* The request walk for request_culprits and request_pass (name): the table read into k and *codes, the bits in
 * *bad, and CC401's numbers when it is named. 0; UNSURE (the caller answers None); -1 with an exception set. */
static int
request_named(PyObject *const *args, const char *name, PyObject **k, PyObject **codes, unsigned *bad, long long *n,
              long long *received)
{
    if (read_request_table(args[2], name, k, codes) < 0)
        return -1;
#ifdef Py_GIL_DISABLED
    return UNSURE; /* another thread may change the document under the borrowed references */
#endif
    if (!PyDict_CheckExact(args[1]))
        return UNSURE;
    return request_walk(k, args[0], args[1], bad, n, received);
}

static PyObject *
request_culprits(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "request_culprits(doc, req, table) takes a document, a request, a table");
        return NULL;
    }
    PyObject *k[R_COUNT], *codes;
    unsigned bad = 0;
    long long n = 0, received = 0;
    int rc = request_named(args, "request_culprits", k, &codes, &bad, &n, &received);
    if (rc != 0)
        return rc < 0 ? NULL : Py_NewRef(Py_None);
    return code_set(codes, PyTuple_GET_ITEM(args[2], 3), Q_COUNT, bad, PyTuple_GET_ITEM(args[2], 2));
}

/* ---- request_pass(doc, req, table, keyed) ----------------------------------------------------------------------
 *
 * The engine's pass over a request, in one call: (request_culprits' answer; when it names CC401 alone, that rule's
 * one hit, the number of choices against the request's n, built as rules/request.py builds it, (loc, message,
 * actual, expected), else None; whether the request holds none of the keys in keyed, a frozenset: what
 * keyed.isdisjoint(req) says). None where request_culprits is unsure, or for a request key that is not an exact
 * str (its hash could be Python code). Same table. */
static PyObject *
request_pass(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 4 || !PyFrozenSet_CheckExact(args[3])) {
        PyErr_SetString(PyExc_TypeError,
                        "request_pass(doc, req, table, keyed) takes a document, a request, a table and a frozenset");
        return NULL;
    }
    PyObject *k[R_COUNT], *codes;
    unsigned bad = 0, covered = 0;
    long long n = 0, received = 0;
    int rc = request_named(args, "request_pass", k, &codes, &bad, &n, &received);
    if (rc != 0)
        return rc < 0 ? NULL : Py_NewRef(Py_None);
    for (int i = 0; i < Q_COUNT; i++) {
        if (PyTuple_GET_ITEM(codes, i) != Py_None)
            covered |= BIT(i);
    }
    PyObject *free = Py_True, *key, *value;
    Py_ssize_t pos = 0;
    while (free == Py_True && PyDict_Next(args[1], &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key))
            Py_RETURN_NONE;
        int in = PySet_Contains(args[3], key);
        if (in < 0)
            return NULL;
        if (in)
            free = Py_False;
    }
    PyObject *named = code_set(codes, PyTuple_GET_ITEM(args[2], 3), Q_COUNT, bad, PyTuple_GET_ITEM(args[2], 2));
    if (named == NULL)
        return NULL;
    PyObject *one = NULL;
    if ((bad & covered) == BIT(Q401)) { /* CC401 alone: "Request asked for n={n} choices; received {count}." */
        PyObject *loc = PyTuple_Pack(1, k[R_CHOICES]);
        PyObject *actual = loc == NULL ? NULL : PyLong_FromLongLong(received);
        if (actual != NULL)
            one = hit_fields4(NULL, loc, ascii_message("Request asked for n=%lld choices; received %lld.", n, received),
                              actual, PyLong_FromLongLong(n));
        else
            Py_XDECREF(loc);
        Py_XDECREF(actual);
        if (one == NULL) {
            Py_DECREF(named);
            return NULL;
        }
    } else {
        one = Py_NewRef(Py_None);
    }
    PyObject *out = PyTuple_Pack(3, named, one, free);
    Py_DECREF(named);
    Py_DECREF(one);
    return out;
}

static PyMethodDef methods[] = {
    {"plain", (PyCFunction)(void (*)(void))plain, METH_FASTCALL,
     "plain(body, floats=False, /)\n--\n\n"
     "True when body, if it is valid JSON, has no duplicate key, float, NaN/Infinity or integer over 18 digits;\n"
     "None (not plain) when the scan met a repeated key first. With floats true: 2 when it is plain but for\n"
     "number tokens with a fraction or an exponent (jiter's default parse then gives the strict parse's document);\n"
     "for a repeated key met before any float, duplicates(body)'s answer when that is a list, else None."},
    {"duplicates", duplicates, METH_O,
     "duplicates(body: bytes) -> list | None\n--\n\n"
     "plain()'s scan, listing each duplicate key (the location of its object, the key) instead of refusing it."},
    {"repeated", (PyCFunction)(void (*)(void))repeated, METH_FASTCALL,
     "repeated(doc, where, code, make, /)\n--\n\n"
     "CC004's (code, hit) at each repeated key duplicates() listed, in the parsed document; or None."},
    {"numbers", numbers, METH_O,
     "numbers(doc, /)\n--\n\n"
     "(places, odd): every float's location and every location above one, and whether a number is beyond\n"
     "64 bits or not finite; None for a document nested too deep."},
    {"order_key", (PyCFunction)(void (*)(void))order_key, METH_FASTCALL,
     "order_key(doc, loc, /)\n--\n\n"
     "The document-order sort key of a location: each step's position in its object or array; None when unsure."},
    {"doc_order", (PyCFunction)(void (*)(void))doc_order, METH_FASTCALL,
     "doc_order(violations, doc, names, /)\n--\n\n"
     "Sort the findings in place in document order (event, location, code); False, untouched, when unsure."},
    {"scan_fields", (PyCFunction)(void (*)(void))scan_fields, METH_FASTCALL,
     "scan_fields(table, node, loc, floats, /)\n--\n\n"
     "(own errors?, [(key, value, failing items or None)]): the fields of node its model's checks do not accept."},
    {"culprits", (PyCFunction)(void (*)(void))culprits, METH_FASTCALL,
     "culprits(doc, table, now, /)\n--\n\n"
     "The covered rules that may have a hit on a contract-valid document (a frozenset), or None when unsure."},
    {"findings", (PyCFunction)(void (*)(void))findings, METH_FASTCALL,
     "findings(doc, table, now, codes, /)\n--\n\n"
     "The hits (code, loc, message, actual, expected) of the covered rules culprits named, in document order, or\n"
     "None (the rules decide)."},
    {"null_places", (PyCFunction)(void (*)(void))null_places, METH_FASTCALL,
     "null_places(doc, table, /)\n--\n\n"
     "The nulls for optional fields at the fused pass's levels: [(loc, object, listed value)], or None when unsure."},
    {"suspects", (PyCFunction)(void (*)(void))suspects, METH_FASTCALL,
     "suspects(doc, table, now, /)\n--\n\n"
     "The covered rules that may have a hit on any document, coarsely (a frozenset), or None when unsure."},
    {"request_culprits", (PyCFunction)(void (*)(void))request_culprits, METH_FASTCALL,
     "request_culprits(doc, req, table, /)\n--\n\n"
     "The request rules every request meets that may have a hit (a frozenset), or None when unsure."},
    {"request_pass", (PyCFunction)(void (*)(void))request_pass, METH_FASTCALL,
     "request_pass(doc, req, table, keyed, /)\n--\n\n"
     "(request_culprits' answer, CC401's one hit when it is named alone else None, keyed.isdisjoint(req)), or\n"
     "None (unsure)."},
    {"places", (PyCFunction)(void (*)(void))places, METH_FASTCALL,
     "places(trie, doc, /)\n--\n\n"
     "(nulls, owns): each null where the trie's models want an optional field omitted, each object with own errors."},
    {"violation", (PyCFunction)(void (*)(void))violation, METH_FASTCALL,
     "violation(make, rules, fallback, names, code, loc, message, actual, expected, event, /)\n--\n\n"
     "outcome.violation_of's usual case in one call; fallback(code, loc, message, actual, expected, event) else."},
    {"hit_maker", hit_maker, METH_O,
     "hit_maker(cls, /)\n--\n\n"
     "A callable hit(loc, message, actual=None, expected=None, event=None) building cls, a five-field tuple."},
    {"maker", (PyCFunction)(void (*)(void))maker, METH_FASTCALL,
     "maker(cls, names, /)\n--\n\n"
     "A callable building cls from one positional value per slot in names, without calling cls.__init__."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "chatcontract._speedups",
    .m_doc = "Optional C accelerator for chatcontract's fast path; chatcontract works the same without it.",
    .m_size = sizeof(PyObject *),
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_methods = methods,
    .m_slots = slots,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&module_def);
}
