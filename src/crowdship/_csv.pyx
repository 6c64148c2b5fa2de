"""The column-wise reading of a plain CSV file in C: :func:`plain_columns`, the compiled
front of ``crowdship.tables._plain_columns``.

It gives exactly the columns of the Python reading (``read_text``, ``splitlines``, NumPy's
``loadtxt`` on the number columns) or refuses (returns None) and the Python reading
decides: every file it is not sure about (quotes, control characters but tabs and
``\\x1f``, line breaks other than ``\\n``, ``\\r\\n`` and ``\\r``, bad UTF-8, a header the
fast path refuses, ragged or blank lines, a single column, no data rows, a number it does
not parse the way ``loadtxt`` would).

A number is parsed only when it is, between spaces and tabs, an optional sign, digits with
an optional point and more digits (at least one digit), and an optional exponent: values
``loadtxt`` reads with ``PyOS_string_to_double`` (correctly rounded, whatever the C locale).
Up to 19 significant digits and a decimal exponent in [-128, 128] take the Eisel-Lemire
algorithm (the correctly rounded double, or no answer); the rest, and the cases it leaves,
``PyOS_string_to_double`` itself, on the same characters: the same bits as ``loadtxt`` and
``float``. A value ``loadtxt`` surely refuses (empty, spaces only, or with a ``:`` as a
clock time has) makes the Python reading fall back to raw strings for every column; this
module then gives the same raw strings. Any other value outside the grammar (``inf``,
``nan``, ``1_000``, other whitespace, ...) is refused.
"""

from cpython.conversion cimport PyOS_string_to_double
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

import numpy as np

cdef extern from *:
    """
    #include <stdint.h>
    /* The 128-bit product of two 64-bit words, as its high and low words. */
    static inline void crowdship_csv_mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
        unsigned __int128 p = (unsigned __int128)a * b;
        *hi = (uint64_t)(p >> 64);
        *lo = (uint64_t)p;
    }
    static inline int crowdship_csv_clz64(uint64_t x) { return __builtin_clzll(x); }
    #define CROWDSHIP_CSV_FRACTION UINT64_C(0x000FFFFFFFFFFFFF)
    #define CROWDSHIP_CSV_SIGN UINT64_C(0x8000000000000000)
    """
    const uint64_t _FRACTION "CROWDSHIP_CSV_FRACTION"  # the 52 bits of a double's fraction
    const uint64_t _SIGN "CROWDSHIP_CSV_SIGN"  # a double's sign bit
    void _mul64 "crowdship_csv_mul64"(uint64_t a, uint64_t b, uint64_t* hi, uint64_t* lo) nogil
    int _clz64 "crowdship_csv_clz64"(uint64_t x) nogil

# What a field of a number column is (_number_field).
cdef enum:
    PARSED = 0
    REFUSED = 1  # loadtxt surely refuses it (ValueError): the raw-strings reading
    UNSURE = 2  # outside the grammar: the Python reading decides

# The kind of a column (_read_body).
cdef enum:
    SKIP = 0
    NUMBER = 1
    TEXT = 2

# The powers of ten of the Eisel-Lemire algorithm (_eisel_lemire): 10^e for e in
# [POW_MIN, POW_MAX] as 128 bits, the leading bit set, rounded down (exact for 0 <= e <= 55).
cdef enum:
    POW_MIN = -128
    POW_MAX = 128
cdef uint64_t _POW_HI[POW_MAX - POW_MIN + 1]
cdef uint64_t _POW_LO[POW_MAX - POW_MIN + 1]


def _powers_of_ten(int low, int high):
    """(hi, lo) words of 10^e for e in [low, high], as _POW_HI and _POW_LO hold them."""
    words = []
    for e in range(low, high + 1):
        if e >= 0:
            v = 10**e
            bits = v.bit_length()
            v = v >> (bits - 128) if bits > 128 else v << (128 - bits)
        else:
            d = 10**-e
            v = (1 << (127 + d.bit_length())) // d
            while v.bit_length() > 128:
                v >>= 1  # floor of floor is the floor of the exact quotient
        words.append((v >> 64, v & 0xFFFFFFFFFFFFFFFF))
    return words


cdef int _k = 0
for _hi, _lo in _powers_of_ten(POW_MIN, POW_MAX):
    _POW_HI[_k] = _hi
    _POW_LO[_k] = _lo
    _k += 1
del _hi, _lo


cdef inline bint _eisel_lemire(uint64_t man, int64_t exp10, bint neg, double* out) noexcept nogil:
    """man * 10^exp10 (man > 0, exp10 in the table), correctly rounded to the nearest double
    (ties to even), into out[0]; False when the algorithm cannot tell (subnormal, overflow,
    too close to a tie), and the caller parses the text. The algorithm of D. Lemire, "Number
    parsing at a gigabyte per second" (2021), as Go's strconv writes it (eisel_lemire.go)."""
    cdef int clz = _clz64(man)
    cdef uint64_t ret_exp2, x_hi, x_lo, y_hi, y_lo, merged_hi, merged_lo, msb, mantissa, bits
    cdef int k = <int>(exp10 - POW_MIN)
    man <<= clz
    ret_exp2 = <uint64_t>(((217706 * exp10) >> 16) + 64 + 1023) - <uint64_t>clz
    _mul64(man, _POW_HI[k], &x_hi, &x_lo)
    if (x_hi & 0x1FF) == 0x1FF and x_lo + man < man:  # the wider approximation
        _mul64(man, _POW_LO[k], &y_hi, &y_lo)
        merged_hi = x_hi
        merged_lo = x_lo + y_hi
        if merged_lo < x_lo:
            merged_hi += 1
        if (merged_hi & 0x1FF) == 0x1FF and merged_lo + 1 == 0 and y_lo + man < man:
            return False
        x_hi = merged_hi
        x_lo = merged_lo
    msb = x_hi >> 63
    mantissa = x_hi >> (msb + 9)
    ret_exp2 -= 1 ^ msb
    if x_lo == 0 and (x_hi & 0x1FF) == 0 and (mantissa & 3) == 1:  # half-way: ambiguous
        return False
    mantissa += mantissa & 1
    mantissa >>= 1
    if mantissa >> 53 > 0:
        mantissa >>= 1
        ret_exp2 += 1
    if ret_exp2 - 1 >= 0x7FF - 1:  # subnormal or zero, infinite
        return False
    bits = (ret_exp2 << 52) | (mantissa & _FRACTION)
    if neg:
        bits |= _SIGN
    memcpy(out, &bits, 8)
    return True


cdef inline bint _blank(char c) noexcept nogil:
    return c == 32 or c == 9  # space, tab


cdef inline bint _digit(char c) noexcept nogil:
    return 48 <= c <= 57


cdef int _number_field(const char* s, Py_ssize_t a, Py_ssize_t b, double* out) except -1:
    """Parses s[a:b] into out[0] (PARSED) or says why not (REFUSED, UNSURE)."""
    cdef Py_ssize_t i = a, j = b, start, digits = 0, significant = 0
    cdef char* end = NULL
    cdef bint neg = False, exact = True, exp_neg = False
    cdef uint64_t man = 0
    cdef int64_t exp10 = 0, written = 0
    cdef int d
    while i < j and _blank(s[i]):
        i += 1
    while j > i and _blank(s[j - 1]):
        j -= 1
    if i == j:
        return REFUSED
    start = i
    if s[i] == 43 or s[i] == 45:  # + -
        neg = s[i] == 45
        i += 1
    while i < j and _digit(s[i]):
        d = s[i] - 48
        if significant or d:
            significant += 1
            if significant <= 19:
                man = man * 10 + d
            else:
                exact = False
        i += 1
        digits += 1
    if i < j and s[i] == 46:  # .
        i += 1
        while i < j and _digit(s[i]):
            d = s[i] - 48
            if significant or d:
                significant += 1
                if significant <= 19:
                    man = man * 10 + d
                else:
                    exact = False
            exp10 -= 1
            i += 1
            digits += 1
    if digits and i < j and (s[i] == 101 or s[i] == 69):  # e E
        i += 1
        if i < j and (s[i] == 43 or s[i] == 45):
            exp_neg = s[i] == 45
            i += 1
        if i < j and _digit(s[i]):
            while i < j and _digit(s[i]):
                if written < 100000:
                    written = written * 10 + (s[i] - 48)
                i += 1
            exp10 += -written if exp_neg else written
        else:
            digits = 0
    if digits == 0 or i != j:
        for i in range(a, b):
            if s[i] == 58:  # : (a clock time or a date-time)
                return REFUSED
        return UNSURE
    if exact:
        if man == 0:
            out[0] = -0.0 if neg else 0.0
            return PARSED
        if POW_MIN <= exp10 <= POW_MAX and _eisel_lemire(man, exp10, neg, out):
            return PARSED
    # As loadtxt parses it (correctly rounded, whatever the C locale). The field ends before
    # a space, tab, comma, line break or the bytes' final NUL: no character that continues a
    # number.
    out[0] = PyOS_string_to_double(s + start, &end, NULL)
    if end != s + j:
        return UNSURE
    return PARSED


cdef int _read_body(
    const char* s,
    Py_ssize_t p,
    Py_ssize_t n,
    Py_ssize_t width,
    Py_ssize_t rows,
    const int* kinds,
    double** numbers,
    list texts,
) except -1:
    """Reads the lines of s[p:n] into the columns; PARSED, REFUSED (some number loadtxt
    refuses, none unsure) or UNSURE (a ragged line, an unsure number)."""
    cdef Py_ssize_t row = 0, col, i, a
    cdef int kind, state
    cdef bint refused = False
    cdef char c
    while p < n:
        if row >= rows:
            return UNSURE
        col = 0
        a = p
        i = p
        while True:
            c = s[i] if i < n else 10
            if c == 44 or c == 10 or c == 13:  # , \n \r
                if col >= width:
                    return UNSURE
                kind = kinds[col]
                if kind == NUMBER:
                    state = _number_field(s, a, i, numbers[col] + row)
                    if state == UNSURE:
                        return UNSURE
                    if state == REFUSED:
                        refused = True
                elif kind == TEXT:
                    (<list>texts[col]).append(PyUnicode_DecodeUTF8(s + a, i - a, NULL))
                col += 1
                a = i + 1
                if c != 44:
                    break
            i += 1
        if col != width:
            return UNSURE
        if i < n and s[i] == 13 and i + 1 < n and s[i + 1] == 10:
            i += 1
        p = i + 1
        row += 1
    if row != rows:
        return UNSURE
    return REFUSED if refused else PARSED


def plain_columns(bytes data not None, number_columns, text_columns):
    """The columns of a plain CSV file's bytes as ``tables._plain_columns`` gives them (the
    number columns as float64 arrays, the text columns as lists of the raw values, or every
    column as raw values when ``loadtxt`` would refuse a number), or None when unsure."""
    cdef const char* s = data
    cdef Py_ssize_t n = len(data), p = 0, i, breaks = 0, width, rows, k, head_end
    cdef unsigned char c
    cdef bint ascii = True, ends_with_break
    cdef int* kinds = NULL
    cdef double** numbers = NULL
    cdef double[::1] view
    cdef int state
    if n >= 3 and s[0] == b"\xef" and s[1] == b"\xbb" and s[2] == b"\xbf":
        p = 3  # the BOM utf-8-sig drops
    if p == n:
        return None
    # Line breaks, and the bytes the Python reading handles otherwise.
    i = p
    while i < n:
        c = <unsigned char>s[i]
        if c < 32 or c == 34 or c >= 128:
            if c == 10:
                breaks += 1
            elif c == 13:
                breaks += 1
                if i + 1 < n and s[i + 1] == 10:
                    i += 1
            elif c >= 128:
                ascii = False
            elif c != 9 and c != 31:  # NUL, \v, \f, \x1c-\x1e, other controls, quotes
                return None
        i += 1
    if not ascii:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        # \x85, \u2028, \u2029: line breaks to splitlines (in valid UTF-8, these bytes are
        # only ever these characters).
        if b"\xc2\x85" in data or b"\xe2\x80\xa8" in data or b"\xe2\x80\xa9" in data:
            return None
    c = <unsigned char>s[n - 1]
    ends_with_break = c == 10 or c == 13
    rows = breaks - (1 if ends_with_break else 0)  # lines after the header
    head_end = p
    while head_end < n and s[head_end] != 10 and s[head_end] != 13:
        head_end += 1
    header = [
        name.strip() for name in PyUnicode_DecodeUTF8(s + p, head_end - p, NULL).split(",")
    ]
    width = len(header)
    if width < 2 or "" in header or len(set(header)) != width or rows <= 0:
        return None
    p = head_end + 1
    if head_end < n and s[head_end] == 13 and head_end + 1 < n and s[head_end + 1] == 10:
        p += 1

    kinds = <int*>malloc(width * sizeof(int))
    numbers = <double**>malloc(width * sizeof(double*))
    if kinds == NULL or numbers == NULL:
        free(kinds)
        free(numbers)
        raise MemoryError
    try:
        arrays = {}
        texts = [None] * width
        for k in range(width):
            name = header[k]
            numbers[k] = NULL
            if name in number_columns:
                kinds[k] = NUMBER
                array = np.empty(rows, dtype=np.float64)
                view = array
                numbers[k] = &view[0]
                arrays[name] = array
            elif name in text_columns:
                kinds[k] = TEXT
                texts[k] = []
            else:
                kinds[k] = SKIP
        state = _read_body(s, p, n, width, rows, kinds, numbers, texts)
        if state == UNSURE:
            return None
        if state == PARSED:
            for k in range(width):
                if kinds[k] == TEXT:
                    arrays[header[k]] = texts[k]
            return arrays
        # loadtxt refuses some number: every column as raw strings
        arrays = None
        texts = [[] for k in range(width)]
        for k in range(width):
            kinds[k] = TEXT
        if _read_body(s, p, n, width, rows, kinds, numbers, texts) != PARSED:
            return None
        return {header[k]: texts[k] for k in range(width)}
    finally:
        free(kinds)
        free(numbers)
