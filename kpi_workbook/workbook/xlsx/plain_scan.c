/* kpi_workbook_scan: two jobs of plain_scan.py, in C, for the common plain form only.
 *
 *   scan_row(piece, sink, max_row, long_text) -> (contents, cached, cells) | None
 *       One row of a sheet's <sheetData> read for the first time: ``piece`` is the bytes of
 *       the row up to (not including) its "</row>". The result is exactly what
 *       plain_scan._rows_plain(text + "</row>") and plain_scan._cells(text, _Recorder(..))
 *       give (the rows memo's entry), or None when the piece is anything but the narrow form
 *       read here: then the Python code reads it, as it does when this module is absent.
 *       ``sink.strings()`` is called (at most once) for the book's shared strings when a cell
 *       needs them, as plain_scan._cells calls it.
 *   scan_rows(data, memo, sink, max_row, long_text, limit) -> True | None
 *       The whole of plain_scan._rows_memoised for a sheet's <sheetData> (``data``) whose
 *       rows are all in the book's rows memo or read by scan_row (none with "<f "), nothing
 *       but whitespace after the last: True, or None with nothing put or kept (and the
 *       cells, when they were counted, taken back). The cells are counted before any is
 *       built, and the shared strings asked for only after that.
 *   scan_names(body) -> (names, cells) | None
 *       The body of the workbook part's <definedNames>, in the usual form (no "&"): the
 *       names as (name, localSheetId or None, text) and each name's cell ("A1") when it is one
 *       cell, as plain_scan.scan_workbook gives them; None for anything else.
 *
 * Bounded and linear: both walk their input once, left to right, with a cursor that is
 * checked against the end before every read; nothing recurses; what is allocated is the
 * result (in proportion to the input) and one scratch buffer as long as the piece. Anything
 * unexpected is None (the Python code then says what is wrong), or MemoryError.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <math.h>

#define VERSION 2
#ifndef SOURCE_SHA256
#define SOURCE_SHA256 "" /* setup.py gives the SHA-256 of this file: plain_scan.py checks it */
#endif
#define MAX_ROW_ATTRS 16
#define MAX_NUMBER 100 /* longer numbers are left to the Python code */

typedef struct {
    const unsigned char *p, *end;
} Cur;

static inline int is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n'; }

static inline void skip_ws(Cur *c)
{
    while (c->p < c->end && is_ws(*c->p))
        c->p++;
}

static inline int lit(Cur *c, const char *s, Py_ssize_t n)
{
    if (c->end - c->p >= n && memcmp(c->p, s, (size_t)n) == 0) {
        c->p += n;
        return 1;
    }
    return 0;
}
#define LIT(c, s) lit((c), (s), (Py_ssize_t)(sizeof(s) - 1))

static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static inline int is_alpha(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/* an XML character as plain_scan._char allows it from a reference */
static inline int legal_char(unsigned long code)
{
    return code == 0x9 || code == 0xA || code == 0xD || (code >= 0x20 && code <= 0xD7FF) ||
           (code >= 0xE000 && code <= 0xFFFD) || (code >= 0x10000 && code <= 0x10FFFF);
}

/* Text up to the next "<" (plain_scan._TEXT): no raw character plain_scan._ILLEGAL names
 * (controls but tab and newline, CR, U+FFFE, U+FFFF). Sets [*a, *b); 0 when there is no "<"
 * or an illegal character (UTF-8 itself is checked where the text is decoded). */
static int text_span(Cur *c, const unsigned char **a, const unsigned char **b, int *amp)
{
    const unsigned char *p = c->p, *end = c->end;
    *a = p;
    *amp = 0;
    while (p < end && *p != '<') {
        unsigned char ch = *p;
        if (ch < 0x20 && ch != '\t' && ch != '\n')
            return 0;
        if (ch == '&')
            *amp = 1;
        else if (ch == 0xEF && end - p >= 3 && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF))
            return 0;
        p++;
    }
    if (p >= end)
        return 0;
    *b = p;
    c->p = p;
    return 1;
}

/* The text [a, b) with its references replaced, as UTF-8 bytes into out (never longer than
 * the text: a reference is longer than the character it names); -1 when a reference is not
 * one plain_scan.unescape reads or names a character that is not legal. */
static Py_ssize_t unescape_into(const unsigned char *a, const unsigned char *b, unsigned char *out)
{
    unsigned char *o = out;
    while (a < b) {
        if (*a != '&') {
            *o++ = *a++;
            continue;
        }
        const unsigned char *q = a + 1;
        unsigned long code = 0;
        if (b - q >= 3 && memcmp(q, "lt;", 3) == 0) { *o++ = '<'; a = q + 3; continue; }
        if (b - q >= 3 && memcmp(q, "gt;", 3) == 0) { *o++ = '>'; a = q + 3; continue; }
        if (b - q >= 4 && memcmp(q, "amp;", 4) == 0) { *o++ = '&'; a = q + 4; continue; }
        if (b - q >= 5 && memcmp(q, "quot;", 5) == 0) { *o++ = '"'; a = q + 5; continue; }
        if (b - q >= 5 && memcmp(q, "apos;", 5) == 0) { *o++ = '\''; a = q + 5; continue; }
        if (q >= b || *q != '#')
            return -1;
        q++;
        int n = 0;
        if (q < b && *q == 'x') {
            q++;
            while (q < b && n < 7) {
                unsigned char ch = *q;
                int d;
                if (ch >= '0' && ch <= '9') d = ch - '0';
                else if (ch >= 'a' && ch <= 'f') d = ch - 'a' + 10;
                else if (ch >= 'A' && ch <= 'F') d = ch - 'A' + 10;
                else break;
                code = code * 16 + (unsigned long)d;
                q++;
                n++;
            }
            if (n < 1 || n > 6)
                return -1;
        } else {
            while (q < b && n < 8 && is_digit(*q)) {
                code = code * 10 + (unsigned long)(*q - '0');
                q++;
                n++;
            }
            if (n < 1 || n > 7)
                return -1;
        }
        if (q >= b || *q != ';' || !legal_char(code))
            return -1;
        a = q + 1;
        if (code < 0x80) {
            *o++ = (unsigned char)code;
        } else if (code < 0x800) {
            *o++ = (unsigned char)(0xC0 | (code >> 6));
            *o++ = (unsigned char)(0x80 | (code & 0x3F));
        } else if (code < 0x10000) {
            *o++ = (unsigned char)(0xE0 | (code >> 12));
            *o++ = (unsigned char)(0x80 | ((code >> 6) & 0x3F));
            *o++ = (unsigned char)(0x80 | (code & 0x3F));
        } else {
            *o++ = (unsigned char)(0xF0 | (code >> 18));
            *o++ = (unsigned char)(0x80 | ((code >> 12) & 0x3F));
            *o++ = (unsigned char)(0x80 | ((code >> 6) & 0x3F));
            *o++ = (unsigned char)(0x80 | (code & 0x3F));
        }
    }
    return o - out;
}

/* A str of UTF-8 bytes; NULL with no exception set when they are not UTF-8 (the Python
 * code then refuses the sheet), NULL with MemoryError when out of memory. */
static PyObject *decode(const unsigned char *s, Py_ssize_t n)
{
    PyObject *u = PyUnicode_DecodeUTF8((const char *)s, n, "strict");
    if (u == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError))
        PyErr_Clear();
    return u;
}

enum { K_UNKNOWN, K_N, K_S, K_STR, K_E, K_B, K_INLINE };

static int kind_of(const unsigned char *a, Py_ssize_t n)
{
    if (n == 1 && a[0] == 'n') return K_N;
    if (n == 1 && a[0] == 's') return K_S;
    if (n == 3 && memcmp(a, "str", 3) == 0) return K_STR;
    if (n == 1 && a[0] == 'e') return K_E;
    if (n == 1 && a[0] == 'b') return K_B;
    if (n == 9 && memcmp(a, "inlineStr", 9) == 0) return K_INLINE;
    return K_UNKNOWN;
}

/* A number cell's text: plain decimal only, read as float() reads it; int when whole and
 * below 2**53. NULL with no exception for anything else (not plain, not finite). */
static PyObject *number(const unsigned char *s, Py_ssize_t n)
{
    Py_ssize_t i = 0, digits = 0;
    char buf[MAX_NUMBER + 1];
    if (n > MAX_NUMBER)
        return NULL;
    if (i < n && s[i] == '-') i++;
    while (i < n && is_digit(s[i])) { i++; digits++; }
    if (!digits) return NULL;
    if (i < n && s[i] == '.') {
        i++;
        digits = 0;
        while (i < n && is_digit(s[i])) { i++; digits++; }
        if (!digits) return NULL;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+')) i++;
        digits = 0;
        while (i < n && is_digit(s[i])) { i++; digits++; }
        if (!digits) return NULL;
    }
    if (i != n)
        return NULL;
    memcpy(buf, s, (size_t)n);
    buf[n] = 0;
    char *endp = NULL;
    double d = PyOS_string_to_double(buf, &endp, NULL);
    if (PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_MemoryError))
            return NULL;
        PyErr_Clear();
        return NULL;
    }
    if (endp != buf + n || !isfinite(d))
        return NULL;
    if (d == floor(d) && fabs(d) < 9007199254740992.0)
        return PyLong_FromDouble(d);
    return PyFloat_FromDouble(d);
}

typedef struct {
    const unsigned char *name;
    Py_ssize_t len;
} Attr;

/* A row start tag (plain_scan._ROWS): <row r="N" then attributes without a repeat, then
 * ">" (2) or "/>" (1); 0 for anything else or a number not in 1…max_row. */
static int row_tag(Cur *c, long max_row)
{
    Attr seen[MAX_ROW_ATTRS];
    int nseen = 0;
    long number = 0;
    int digits = 0;
    if (!LIT(c, "<row r=\""))
        return 0;
    while (c->p < c->end && is_digit(*c->p) && digits < 8) {
        number = number * 10 + (*c->p - '0');
        c->p++;
        digits++;
    }
    if (digits < 1 || digits > 7 || !LIT(c, "\"") || number < 1 || number > max_row)
        return 0;
    for (;;) {
        if (c->end - c->p >= 2 && c->p[0] == ' ' &&
            (is_alpha(c->p[1]) || c->p[1] == '_')) {
            const unsigned char *name = c->p + 1;
            c->p += 2;
            while (c->p < c->end && (is_alpha(*c->p) || is_digit(*c->p) || *c->p == '_' ||
                                     *c->p == '.' || *c->p == ':' || *c->p == '-'))
                c->p++;
            Py_ssize_t len = c->p - name;
            if (!LIT(c, "=\""))
                return 0;
            while (c->p < c->end && *c->p >= 0x20 && *c->p < 0x7F && *c->p != '"' &&
                   *c->p != '<' && *c->p != '&')
                c->p++;
            if (!LIT(c, "\""))
                return 0;
            if (len == 1 && name[0] == 'r')
                return 0;
            if (nseen == MAX_ROW_ATTRS)
                return 0;
            for (int k = 0; k < nseen; k++)
                if (seen[k].len == len && memcmp(seen[k].name, name, (size_t)len) == 0)
                    return 0;
            seen[nseen].name = name;
            seen[nseen].len = len;
            nseen++;
            continue;
        }
        break;
    }
    skip_ws(c);
    if (LIT(c, "/>"))
        return 1;
    if (LIT(c, ">"))
        return 2;
    return 0;
}

/* The value a cell's <v> text means for its type, as plain_scan._cells and
 * package.cell_value give it; NULL with no exception when that is not known here. */
static PyObject *value_of(int kind, const unsigned char *raw, Py_ssize_t n, PyObject *get_strings,
                          PyObject **strings)
{
    if (kind == K_STR || kind == K_E) {
        return decode(raw == NULL ? (const unsigned char *)"" : raw, n);
    }
    if (n == 0)
        Py_RETURN_NONE;
    if (kind == K_N) {
        return number(raw, n);
    }
    if (kind == K_B) {
        if ((n == 1 && raw[0] == '1') || (n == 4 && memcmp(raw, "true", 4) == 0))
            Py_RETURN_TRUE;
        if ((n == 1 && raw[0] == '0') || (n == 5 && memcmp(raw, "false", 5) == 0))
            Py_RETURN_FALSE;
        return NULL;
    }
    if (kind == K_S) {
        Py_ssize_t index = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (!is_digit(raw[i]) || index > (PY_SSIZE_T_MAX - 9) / 10)
                return NULL;
            index = index * 10 + (raw[i] - '0');
        }
        if (*strings == NULL) {
            *strings = PyObject_CallMethod(get_strings, "strings", NULL);
            if (*strings == NULL)
                return NULL; /* its error goes up, as it would from the Python code */
            if (!PyList_CheckExact(*strings))
                return NULL;
        }
        if (index >= PyList_GET_SIZE(*strings))
            return NULL;
        PyObject *s = PyList_GET_ITEM(*strings, index);
        Py_INCREF(s);
        return s;
    }
    return NULL;
}

/* The number of "<c " in [p, end) (plain_scan.py's count of a new row's cells), or -1 when
 * the bytes are not UTF-8 as Python's strict decoder reads it (no overlong form, no
 * surrogate, nothing above U+10FFFF). */
static Py_ssize_t count_cells(const unsigned char *p, const unsigned char *end)
{
    Py_ssize_t cells = 0;
    while (p < end) {
        unsigned char b = *p;
        if (b < 0x80) {
            if (b == '<' && end - p >= 3 && p[1] == 'c' && p[2] == ' ')
                cells++;
            p++;
            continue;
        }
        Py_ssize_t left = end - p;
        if (b >= 0xC2 && b <= 0xDF) {
            if (left < 2 || (p[1] & 0xC0) != 0x80)
                return -1;
            p += 2;
        } else if (b >= 0xE0 && b <= 0xEF) {
            if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
                (b == 0xE0 && p[1] < 0xA0) || (b == 0xED && p[1] > 0x9F))
                return -1;
            p += 3;
        } else if (b >= 0xF0 && b <= 0xF4) {
            if (left < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80 ||
                (b == 0xF0 && p[1] < 0x90) || (b == 0xF4 && p[1] > 0x8F))
                return -1;
            p += 4;
        } else {
            return -1;
        }
    }
    return cells;
}

/* whether "<row" is in [p, end) (a row tag after the row's own: not a row read here) */
static int has_row_tag(const unsigned char *p, const unsigned char *end)
{
    while (end - p >= 4) {
        const unsigned char *lt = memchr(p, '<', (size_t)(end - p - 3));
        if (lt == NULL)
            return 0;
        if (lt[1] == 'r' && lt[2] == 'o' && lt[3] == 'w')
            return 1;
        p = lt + 1;
    }
    return 0;
}

/* One row's memo entry (a new reference), None (a new reference) or NULL with an error. */
static PyObject *row_entry(const unsigned char *buf, Py_ssize_t len, PyObject *get_strings, long max_row,
                           Py_ssize_t long_text)
{
    PyObject *strings = NULL, *contents = NULL, *cached = NULL, *result = NULL;
    PyObject *ref = NULL, *value = NULL, *text = NULL;
    Py_ssize_t cells = 0;
    unsigned char *scratch = NULL;
    Cur c = {buf, buf + len};
    if (len > long_text)
        goto none; /* the Python code marks the sheet */
    scratch = PyMem_Malloc((size_t)len + 2);
    contents = PyDict_New();
    cached = PyDict_New();
    if (scratch == NULL || contents == NULL || cached == NULL) {
        if (scratch == NULL)
            PyErr_NoMemory();
        goto error;
    }
    for (;;) { /* empty rows, then the row */
        skip_ws(&c);
        int tag = row_tag(&c, max_row);
        if (tag == 0)
            goto none;
        if (tag == 2)
            break;
    }
    for (;;) {
        skip_ws(&c);
        if (c.p >= c.end)
            break;
        if (!LIT(&c, "<c r=\""))
            goto none;
        const unsigned char *r0 = c.p;
        int letters = 0, digits = 0;
        while (c.p < c.end && is_upper(*c.p) && letters < 4) { c.p++; letters++; }
        if (letters < 1 || letters > 3 || c.p >= c.end || *c.p < '1' || *c.p > '9')
            goto none;
        while (c.p < c.end && is_digit(*c.p) && digits < 8) { c.p++; digits++; }
        if (digits > 7)
            goto none;
        const unsigned char *r1 = c.p;
        if (!LIT(&c, "\""))
            goto none;
        int seen_s = 0, seen_t = 0, t_first = 0, kind = K_N;
        for (;;) {
            if (LIT(&c, " s=\"")) {
                int n = 0;
                if (seen_s)
                    goto none;
                seen_s = 1;
                while (c.p < c.end && is_digit(*c.p) && n < 10) { c.p++; n++; }
                if (n < 1 || n > 9 || !LIT(&c, "\""))
                    goto none;
            } else if (LIT(&c, " t=\"")) {
                const unsigned char *t0 = c.p;
                if (seen_t)
                    goto none;
                seen_t = 1;
                t_first = !seen_s;
                while (c.p < c.end && is_alpha(*c.p) && c.p - t0 < 10) c.p++;
                if (c.p - t0 < 1 || c.p - t0 > 9)
                    goto none;
                kind = kind_of(t0, c.p - t0);
                if (!LIT(&c, "\""))
                    goto none;
            } else {
                break;
            }
        }
        skip_ws(&c);
        cells++;
        if (LIT(&c, "/>")) {
            if (t_first && seen_s)
                goto none; /* an empty cell's attributes come in this order */
            continue;
        }
        if (!LIT(&c, ">"))
            goto none;
        const unsigned char *fa = NULL, *fb = NULL, *va = NULL, *vb = NULL, *ta = NULL, *tb = NULL;
        int has_f = 0, has_v = 0, has_is = 0, amp_f = 0, amp_v = 0, amp_t = 0;
        skip_ws(&c);
        if (LIT(&c, "<f>")) {
            if (!text_span(&c, &fa, &fb, &amp_f) || !LIT(&c, "</f>"))
                goto none;
            has_f = 1;
        } else if (LIT(&c, "<f/>")) {
            has_f = 1;
        }
        skip_ws(&c);
        if (LIT(&c, "<v>")) {
            if (!text_span(&c, &va, &vb, &amp_v) || !LIT(&c, "</v>"))
                goto none;
            has_v = 1;
        } else if (LIT(&c, "<v/>")) {
            has_v = 1;
        }
        skip_ws(&c);
        if (LIT(&c, "<is>")) {
            skip_ws(&c);
            if (!LIT(&c, "<t"))
                goto none;
            LIT(&c, " xml:space=\"preserve\"");
            if (!LIT(&c, "/>")) {
                if (!LIT(&c, ">") || !text_span(&c, &ta, &tb, &amp_t) || !LIT(&c, "</t>"))
                    goto none;
            }
            skip_ws(&c);
            if (!LIT(&c, "</is>"))
                goto none;
            has_is = 1;
        }
        skip_ws(&c);
        if (!LIT(&c, "</c>"))
            goto none;
        if (kind == K_INLINE ? has_v : has_is)
            goto none; /* both, or <is> in another type: left to the Python code */
        if ((has_v || has_is) && kind == K_UNKNOWN)
            goto none;
        /* the value */
        if (kind == K_INLINE) {
            if (!has_is) {
                value = Py_None;
                Py_INCREF(value);
            } else if (ta == NULL) {
                value = PyUnicode_New(0, 0);
            } else {
                Py_ssize_t n = amp_t ? unescape_into(ta, tb, scratch) : tb - ta;
                if (n < 0)
                    goto none;
                value = decode(amp_t ? scratch : ta, n);
            }
            if (value == NULL)
                goto none_or_error;
        } else if (!has_v) {
            value = Py_None;
            Py_INCREF(value);
        } else {
            const unsigned char *raw = va;
            Py_ssize_t n = 0;
            if (va != NULL) {
                n = amp_v ? unescape_into(va, vb, scratch) : vb - va;
                if (n < 0)
                    goto none;
                if (amp_v)
                    raw = scratch;
            }
            if (kind == K_S && strings == NULL && has_row_tag(c.p, c.end))
                goto none; /* plain_scan._rows_plain refuses the row before the strings are asked for */
            value = value_of(kind, raw, n, get_strings, &strings);
            if (value == NULL)
                goto none_or_error;
        }
        ref = PyUnicode_FromStringAndSize((const char *)r0, r1 - r0);
        if (ref == NULL)
            goto error;
        if (has_f) {
            Py_ssize_t n = 0;
            scratch[0] = '=';
            if (fa != NULL) {
                if (amp_f) {
                    n = unescape_into(fa, fb, scratch + 1);
                    if (n < 0)
                        goto none;
                } else {
                    n = fb - fa;
                    memcpy(scratch + 1, fa, (size_t)n);
                }
            }
            text = decode(scratch, n + 1);
            if (text == NULL)
                goto none_or_error;
            if (PyDict_SetItem(cached, ref, value) < 0 || PyDict_SetItem(contents, ref, text) < 0)
                goto error;
            Py_CLEAR(text);
        } else if (value != Py_None) {
            if (PyDict_SetItem(contents, ref, value) < 0)
                goto error;
        }
        Py_CLEAR(ref);
        Py_CLEAR(value);
    }
    result = Py_BuildValue("(OOn)", contents, cached, cells);
    goto done;
none_or_error:
    if (PyErr_Occurred())
        goto error;
none:
    result = Py_None;
    Py_INCREF(result);
    goto done;
error:
    result = NULL;
done:
    Py_XDECREF(ref);
    Py_XDECREF(value);
    Py_XDECREF(text);
    Py_XDECREF(strings);
    Py_XDECREF(contents);
    Py_XDECREF(cached);
    PyMem_Free(scratch);
    return result;
}

static PyObject *scan_row(PyObject *self, PyObject *args)
{
    Py_buffer view;
    PyObject *sink, *result;
    long max_row;
    Py_ssize_t long_text;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*Oln", &view, &sink, &max_row, &long_text))
        return NULL;
    result = row_entry((const unsigned char *)view.buf, view.len, sink, max_row, long_text);
    PyBuffer_Release(&view);
    return result;
}

/* whether "<f " is in [p, end): looked for by its "f", several times rarer in a sheet than "<" */
static int has_f(const unsigned char *p, const unsigned char *end)
{
    const unsigned char *q = p;
    while (end - q >= 2) {
        const unsigned char *f = memchr(q, 'f', (size_t)(end - q - 1));
        if (f == NULL)
            return 0;
        if (f > p && f[-1] == '<' && f[1] == ' ')
            return 1;
        q = f + 1;
    }
    return 0;
}

/* where "</row>" next starts in [p, end), or NULL */
static const unsigned char *row_end(const unsigned char *p, const unsigned char *end)
{
    while (end - p >= 6) {
        const unsigned char *lt = memchr(p, '<', (size_t)(end - p));
        if (lt == NULL || end - lt < 6)
            break;
        if (lt[1] == '/' && memcmp(lt, "</row>", 6) == 0)
            return lt;
        p = lt + 1;
    }
    return NULL; /* what follows is the part's tail: whitespace only, or not read here */
}

/* The whole of plain_scan._rows_memoised when every row of ``data`` is in the memo or read
 * here, in two passes. The first builds nothing: it looks each row up in the memo and counts
 * each new one's cells as plain_scan.py counts them ("<c "), its bytes checked for UTF-8 as
 * plain_scan.py decodes them, then the cells are counted for the book's limit (sink.count)
 * before any is built: as plain_scan.py would count them, at the same point. The second builds the new rows' entries (the
 * shared strings asked for only now, when a cell needs them), then puts every row into the
 * sink and the new ones into the memo. None, with nothing put and the count taken back
 * (sink.count(-cells)), as soon as a row is not read here (then the Python code reads the
 * sheet, and counts it again). A row with "<f " is never in the memo and not read here:
 * one search of ``data`` for it comes first (plain_scan.py then reads the sheet row by row,
 * each new plain row in C once). */
static PyObject *scan_rows(PyObject *self, PyObject *args)
{
    PyObject *data, *memo, *sink, *entries = NULL, *keys = NULL, *result = NULL;
    PyObject *contents = NULL, *cached = NULL, *counted = NULL;
    long max_row;
    Py_ssize_t long_text, limit, cells = 0, fresh = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "SO!Olnn", &data, &PyDict_Type, &memo, &sink, &max_row, &long_text, &limit))
        return NULL;
    const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(data);
    const unsigned char *end = p + PyBytes_GET_SIZE(data);
    entries = PyList_New(0); /* each row's memo entry, or None for a new row (built later) */
    keys = PyList_New(0);    /* each new row's bytes (its key in the memo), or None */
    if (entries == NULL || keys == NULL)
        goto error;
    if (has_f(p, end)) /* a row with "<f " (a shared formula's, perhaps) is never in the memo nor */
        goto none;     /* read here: the Python code reads the sheet row by row, before any work here */
    for (;;) { /* the first pass: nothing built */
        const unsigned char *stop = row_end(p, end);
        if (stop == NULL) { /* what follows the last row: whitespace only, not long */
            if (end - p > long_text)
                goto none;
            for (; p < end; p++)
                if (!is_ws(*p))
                    goto none;
            break;
        }
        PyObject *key = PyBytes_FromStringAndSize((const char *)p, stop - p);
        if (key == NULL)
            goto error;
        PyObject *entry = PyDict_GetItemWithError(memo, key);
        Py_ssize_t n = -1;
        if (entry != NULL) {
            if (PyTuple_CheckExact(entry) && PyTuple_GET_SIZE(entry) == 3 &&
                PyDict_CheckExact(PyTuple_GET_ITEM(entry, 0)) && PyDict_CheckExact(PyTuple_GET_ITEM(entry, 1)) &&
                PyLong_CheckExact(PyTuple_GET_ITEM(entry, 2)))
                n = PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 2));
            if (n < 0) {
                Py_DECREF(key);
                if (PyErr_Occurred())
                    goto error;
                goto none;
            }
            Py_INCREF(entry);
            Py_DECREF(key);
            key = Py_None;
            Py_INCREF(key);
        } else if (PyErr_Occurred()) {
            Py_DECREF(key);
            goto error;
        } else {
            n = stop - p > long_text ? -1 : count_cells(p, stop); /* as plain_scan.py counts it */
            if (n < 0) { /* long (the Python code marks the sheet), or not UTF-8 */
                Py_DECREF(key);
                goto none;
            }
            fresh += n;
            entry = Py_None;
            Py_INCREF(entry);
        }
        int bad = PyList_Append(entries, entry) < 0 || PyList_Append(keys, key) < 0;
        Py_DECREF(key);
        Py_DECREF(entry);
        if (bad)
            goto error;
        cells += n;
        p = stop + 6;
    }
    counted = PyObject_CallMethod(sink, "count", "n", cells); /* the book's limit, before anything is built */
    if (counted == NULL)
        goto error;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(entries); k++) { /* the second pass: the new rows built */
        PyObject *key = PyList_GET_ITEM(keys, k);
        if (key == Py_None)
            continue;
        PyObject *entry = row_entry((const unsigned char *)PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key), sink,
                                    max_row, long_text);
        if (entry == NULL)
            goto error;
        if (entry == Py_None) {
            Py_DECREF(entry);
            goto uncount;
        }
        PyList_SET_ITEM(entries, k, entry); /* in place of None (the list's reference to it is dropped) */
        Py_DECREF(Py_None);
        fresh -= PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 2));
    }
    if (fresh != 0) /* never: a row read here has a cell at each "<c " (no text holds "<") */
        goto uncount;
    contents = PyObject_GetAttrString(sink, "contents");
    cached = PyObject_GetAttrString(sink, "cached");
    if (contents == NULL || cached == NULL)
        goto error;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(entries); k++) {
        PyObject *entry = PyList_GET_ITEM(entries, k), *key = PyList_GET_ITEM(keys, k);
        if (PyDict_Update(contents, PyTuple_GET_ITEM(entry, 0)) < 0)
            goto error;
        if (PyDict_GET_SIZE(PyTuple_GET_ITEM(entry, 1)) && PyDict_Update(cached, PyTuple_GET_ITEM(entry, 1)) < 0)
            goto error;
        if (key != Py_None && PyDict_GET_SIZE(memo) < limit && PyDict_SetItem(memo, key, entry) < 0)
            goto error;
    }
    result = Py_True;
    Py_INCREF(result);
    goto done;
uncount:
    Py_CLEAR(counted);
    counted = PyObject_CallMethod(sink, "count", "n", -cells); /* the Python code counts them again */
    if (counted == NULL)
        goto error;
none:
    result = Py_None;
    Py_INCREF(result);
    goto done;
error:
    result = NULL;
done:
    Py_XDECREF(entries);
    Py_XDECREF(keys);
    Py_XDECREF(counted);
    Py_XDECREF(contents);
    Py_XDECREF(cached);
    return result;
}

/* --- defined names ------------------------------------------------------------------- */

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t i, n;
} UCur;

static inline Py_UCS4 uat(UCur *c, Py_ssize_t i) { return PyUnicode_READ(c->kind, c->data, i); }

static inline void uskip_ws(UCur *c)
{
    while (c->i < c->n) {
        Py_UCS4 ch = uat(c, c->i);
        if (ch != ' ' && ch != '\t' && ch != '\n')
            break;
        c->i++;
    }
}

static int ulit(UCur *c, const char *s)
{
    Py_ssize_t n = (Py_ssize_t)strlen(s);
    if (c->n - c->i < n)
        return 0;
    for (Py_ssize_t k = 0; k < n; k++)
        if (uat(c, c->i + k) != (Py_UCS4)(unsigned char)s[k])
            return 0;
    c->i += n;
    return 1;
}

/* not a character plain_scan._ILLEGAL names (raw controls but tab and newline, CR,
 * U+FFFE, U+FFFF) */
static inline int ulegal(Py_UCS4 ch)
{
    return !((ch < 0x20 && ch != '\t' && ch != '\n') || ch == 0xFFFE || ch == 0xFFFF);
}

/* The cell of a name's text when it is one cell (plain_scan._ONE_CELL), as "A1" in out;
 * its length, or 0. */
static int one_cell(UCur *c, Py_ssize_t a, Py_ssize_t b, char *out)
{
    Py_ssize_t j = a;
    int n = 0;
    if (j >= b)
        return 0;
    Py_UCS4 ch = uat(c, j);
    if (ch == '\'') {
        j++;
        while (j < b && (ch = uat(c, j)) != '\'' && ch != '!' && ch != '<' && ch != '&')
            j++;
        if (j >= b || uat(c, j) != '\'')
            return 0;
        j++;
    } else {
        if (ch == '!' || ch == '<' || ch == '&' || Py_UNICODE_ISSPACE(ch))
            return 0;
        j++;
        while (j < b && (ch = uat(c, j)) != '\'' && ch != '!' && ch != '<' && ch != '&')
            j++;
    }
    if (j >= b || uat(c, j) != '!')
        return 0;
    j++;
    if (j < b && uat(c, j) == '$')
        j++;
    while (j < b && n < 4 && (ch = uat(c, j)) >= 'A' && ch <= 'Z') {
        out[n++] = (char)ch;
        j++;
    }
    if (n < 1 || n > 3)
        return 0;
    if (j < b && uat(c, j) == '$')
        j++;
    if (j >= b || (ch = uat(c, j)) < '1' || ch > '9')
        return 0;
    int digits = 0;
    while (j < b && digits < 8 && (ch = uat(c, j)) >= '0' && ch <= '9') {
        out[n++] = (char)ch;
        j++;
        digits++;
    }
    if (digits > 7 || j != b)
        return 0;
    return n;
}

static PyObject *scan_names(PyObject *self, PyObject *arg)
{
    PyObject *names = NULL, *cells = NULL, *result = NULL;
    (void)self;
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "scan_names takes a str");
        return NULL;
    }
    if (PyUnicode_READY(arg) < 0)
        return NULL;
    UCur c = {PyUnicode_KIND(arg), PyUnicode_DATA(arg), 0, PyUnicode_GET_LENGTH(arg)};
    names = PyList_New(0);
    cells = PyList_New(0);
    if (names == NULL || cells == NULL)
        goto error;
    for (;;) {
        uskip_ws(&c);
        if (c.i >= c.n)
            break;
        if (!ulit(&c, "<definedName name=\""))
            goto none;
        Py_ssize_t n0 = c.i;
        Py_UCS4 ch;
        while (c.i < c.n && (ch = uat(&c, c.i)) != '"' && ch != '<' && ch != '&' && ch != '\t' &&
               ch != '\n' && ulegal(ch))
            c.i++;
        Py_ssize_t n1 = c.i;
        if (!ulit(&c, "\""))
            goto none;
        PyObject *scope = Py_None;
        if (ulit(&c, " localSheetId=\"")) {
            long long local = 0; /* up to 10 digits read, 9 kept: never beyond a long long */
            int digits = 0;
            while (c.i < c.n && digits < 10 && (ch = uat(&c, c.i)) >= '0' && ch <= '9') {
                local = local * 10 + (long long)(ch - '0');
                c.i++;
                digits++;
            }
            if (digits < 1 || digits > 9 || !ulit(&c, "\""))
                goto none;
            scope = PyLong_FromLongLong(local);
            if (scope == NULL)
                goto error;
        } else {
            Py_INCREF(scope);
        }
        ulit(&c, " hidden=\"1\"");
        uskip_ws(&c);
        if (!ulit(&c, ">")) {
            Py_DECREF(scope);
            goto none;
        }
        Py_ssize_t v0 = c.i;
        while (c.i < c.n && (ch = uat(&c, c.i)) != '<' && ch != '&' && ulegal(ch))
            c.i++;
        Py_ssize_t v1 = c.i;
        if (!ulit(&c, "</definedName>")) {
            Py_DECREF(scope);
            goto none;
        }
        char buf[16];
        int cn = one_cell(&c, v0, v1, buf);
        PyObject *name = PyUnicode_Substring(arg, n0, n1);
        PyObject *value = PyUnicode_Substring(arg, v0, v1);
        PyObject *cell = cn ? PyUnicode_FromStringAndSize(buf, cn) : (Py_INCREF(Py_None), Py_None);
        PyObject *entry = (name && value) ? PyTuple_Pack(3, name, scope, value) : NULL;
        Py_XDECREF(name);
        Py_XDECREF(value);
        Py_DECREF(scope);
        int bad = entry == NULL || cell == NULL || PyList_Append(names, entry) < 0 ||
                  PyList_Append(cells, cell) < 0;
        Py_XDECREF(entry);
        Py_XDECREF(cell);
        if (bad)
            goto error;
    }
    result = PyTuple_Pack(2, names, cells);
    goto done;
none:
    result = Py_None;
    Py_INCREF(result);
    goto done;
error:
    result = NULL;
done:
    Py_XDECREF(names);
    Py_XDECREF(cells);
    return result;
}

static PyMethodDef methods[] = {
    {"scan_row", scan_row, METH_VARARGS,
     "scan_row(piece, sink, max_row, long_text): a new row's memo entry, or None."},
    {"scan_rows", scan_rows, METH_VARARGS,
     "scan_rows(data, memo, sink, max_row, long_text, limit): _rows_memoised's True, or None."},
    {"scan_names", scan_names, METH_O,
     "scan_names(body): (names, cells) of a <definedNames> body in the usual form, or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "kpi_workbook_scan",
    "The plain sheet rows and the defined names, read in C (kpi_workbook.workbook.xlsx.plain_scan).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_kpi_workbook_scan(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && (PyModule_AddIntConstant(m, "VERSION", VERSION) < 0 ||
                      PyModule_AddStringConstant(m, "SOURCE_SHA256", SOURCE_SHA256) < 0)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
