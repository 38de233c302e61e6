import { between, pick, seededRandom } from "../packing/rng.ts";

/**
 * Log lines shaped like a CPython job's: gcc command lines of a pydebug build, regrtest's progress
 * lines with their load averages and durations, -v case lines. Names come from a fixed list of real
 * CPython ones and the numbers from a seeded generator, so the text compresses about as a real
 * log does (not as a repeated filler would) and every run writes the same.
 */
const MODULES = [
  "test_asyncio",
  "test_bigmem",
  "test_bz2",
  "test_lzma",
  "test_re",
  "test_array",
  "test_ssl",
  "test_socket",
  "test_os",
  "test_io",
  "test_unicode",
  "test_bytes",
  "test_list",
  "test_dict",
  "test_set",
  "test_tuple",
  "test_zlib",
  "test_gzip",
  "test_tarfile",
  "test_zipfile",
  "test_json",
  "test_pickle",
  "test_marshal",
  "test_codecs",
  "test_datetime",
  "test_decimal",
  "test_math",
  "test_statistics",
  "test_random",
  "test_sqlite3",
  "test_subprocess",
  "test_threading",
  "test_multiprocessing_spawn",
  "test_concurrent_futures",
  "test_signal",
  "test_mmap",
  "test_struct",
  "test_hashlib",
  "test_email",
  "test_http_cookiejar",
  "test_urllib2",
  "test_xml_etree",
  "test_capi",
  "test_gc",
  "test_weakref",
  "test_descr",
  "test_inspect",
  "test_typing",
  "test_traceback",
  "test_sys",
];
const SOURCES = [
  "Objects/listobject.c",
  "Objects/dictobject.c",
  "Objects/unicodeobject.c",
  "Objects/bytesobject.c",
  "Objects/longobject.c",
  "Objects/typeobject.c",
  "Objects/setobject.c",
  "Objects/tupleobject.c",
  "Python/ceval.c",
  "Python/compile.c",
  "Python/pythonrun.c",
  "Python/import.c",
  "Python/gc.c",
  "Parser/parser.c",
  "Parser/tokenizer.c",
  "Modules/_io/bufferedio.c",
  "Modules/_sre/sre.c",
  "Modules/arraymodule.c",
  "Modules/_bz2module.c",
  "Modules/_lzmamodule.c",
  "Modules/zlibmodule.c",
  "Modules/socketmodule.c",
  "Modules/_ssl.c",
  "Modules/posixmodule.c",
  "Modules/mathmodule.c",
];
const CLASSES = [
  "StrTest",
  "BytesTest",
  "TupleTest",
  "ListTest",
  "DictTest",
  "GeneralTest",
  "ReadTest",
  "WriteTest",
];
const METHODS = [
  "capitalize",
  "center",
  "count",
  "encode",
  "endswith",
  "expandtabs",
  "find",
  "index",
  "join",
  "split",
  "strip",
  "replace",
  "repr",
  "concat",
  "repeat",
  "contains",
  "compare",
  "hash",
  "slice",
  "extend",
];

const GCC =
  "gcc -c -fno-strict-overflow -Wsign-compare -g -Og -Wall -std=c11 -Werror=implicit-function-declaration " +
  "-fvisibility=hidden -I./Include/internal -I. -I./Include -DPy_BUILD_CORE";

export function logText(seed: number): {
  build: () => string;
  progress: (index: number, files: number) => string;
  testCase: () => string;
} {
  const random = seededRandom(seed);
  const clock = (seconds: number) =>
    `${Math.floor(seconds / 3600)}:${String(Math.floor(seconds / 60) % 60).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}`;
  let elapsed = 0;
  return {
    build() {
      const source = pick(random, SOURCES);
      return random() < 0.8
        ? `${GCC} -o ${source.replace(/\.c$/, ".o")} ${source}`
        : `checking for ${pick(random, ["sys/", "linux/", ""])}${pick(random, METHODS)}${between(random, 0, 99)}.h... ${pick(random, ["yes", "no"])}`;
    },
    progress(index, files) {
      elapsed += between(random, 1, 120);
      const load = (random() * 4 + 0.5).toFixed(2);
      const name = pick(random, MODULES);
      return random() < 0.5
        ? `${clock(elapsed)} load avg: ${load} [${String(index % files).padStart(3)}/${files}] ${name} passed -- ${between(random, 1, 900)} sec`
        : `${clock(elapsed)} load avg: ${load} [${String(index % files).padStart(3)}/${files}] ${name} ${pick(random, ["passed", "skipped (resource denied)", "beginning 6 repetitions", "123456", "......"])}`;
    },
    testCase() {
      const method = `test_${pick(random, METHODS)}${random() < 0.3 ? `_${between(random, 1, 9)}` : ""}`;
      return `${method} (test.${pick(random, MODULES)}.${pick(random, CLASSES)}.${method}) ... ${random() < 0.95 ? "ok" : `skipped 'not enough memory: ${between(random, 2, 60)}.0G minimum needed'`}`;
    },
  };
}
