/*
 * insncount: a QEMU TCG plugin that counts executed guest instructions between marker calls.
 *
 * Every translated instruction gets an inline 64-bit add (exact, no helper call per
 * instruction). Instructions at the addresses named by the arguments additionally get an
 * execution callback:
 *
 *   restart=ADDR         the baseline becomes the current count (nothing is printed)
 *   mark=ADDR[:LABEL]    prints "mark LABEL DELTA" (DELTA = instructions since the last mark or
 *                        restart, the marker's own first instruction included), then re-bases;
 *                        repeat for several markers (LABEL defaults to "mark")
 *   out=FILE             where to write (default: stderr)
 *
 * At exit it prints "total N" (every instruction of the run). ADDR is a function address as
 * `nm` prints it; the Thumb bit is ignored. The firmware's markers are
 * `#[unsafe(no_mangle)] #[inline(never)]` functions (see src/main.rs).
 *
 * QEMU ships no plugin headers on Debian, so the few declarations this file needs are written
 * out below. They match the plugin API version 1 (include/qemu/qemu-plugin.h of QEMU 4.2 to
 * 8.x; Debian bookworm has 7.2). QEMU 9 replaced the inline-op API (scoreboards): port the
 * `register_vcpu_insn_exec_inline` call if the CI image moves to a newer QEMU.
 *
 * Build: gcc -shared -fPIC -O2 -o libinsncount.so insncount.c
 * Run:   qemu-system-arm ... -plugin ./libinsncount.so,restart=0x8000400,mark=0x8000404:char
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The subset of the QEMU plugin API (version 1) used here. ---- */
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* only passed through */
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS = 0 };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t, struct qemu_plugin_tb *);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t, void *);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t, qemu_plugin_vcpu_tb_trans_cb_t);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t, qemu_plugin_udata_cb_t, void *);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *, size_t);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *, enum qemu_plugin_op,
                                                void *, uint64_t);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *,
                                            qemu_plugin_vcpu_udata_cb_t,
                                            enum qemu_plugin_cb_flags, void *);

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;

/* ---- State. A Cortex-M has one vCPU, so plain counters suffice. ---- */
#define MAX_MARKS 16

struct marker {
    uint64_t addr;
    char label[32];
    int restart; /* 1: re-base silently */
};

static struct marker markers[MAX_MARKS];
static int n_markers;
static uint64_t count;    /* instructions executed so far */
static uint64_t baseline; /* count at the last mark or restart */
static FILE *out;

static void on_marker(unsigned int vcpu, void *udata)
{
    const struct marker *m = udata;
    (void)vcpu;
    /* Inline adds run before callbacks, so `count` includes this instruction. */
    if (!m->restart)
        fprintf(out, "mark %s %" PRIu64 "\n", m->label, count - baseline);
    baseline = count;
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &count, 1);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        for (int k = 0; k < n_markers; k++) {
            if (markers[k].addr == pc)
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS,
                                                       &markers[k]);
        }
    }
}

static void at_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    fprintf(out, "total %" PRIu64 "\n", count);
    fflush(out);
}

static int add_marker(const char *spec, int restart)
{
    if (n_markers == MAX_MARKS) {
        fprintf(stderr, "insncount: at most %d markers\n", MAX_MARKS);
        return -1;
    }
    struct marker *m = &markers[n_markers];
    char *end;
    m->addr = strtoull(spec, &end, 0) & ~(uint64_t)1; /* drop the Thumb bit */
    if (end == spec || (*end != '\0' && *end != ':')) {
        fprintf(stderr, "insncount: bad address in '%s'\n", spec);
        return -1;
    }
    snprintf(m->label, sizeof m->label, "%s", *end == ':' ? end + 1 : "mark");
    m->restart = restart;
    n_markers++;
    return 0;
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                               char **argv)
{
    (void)info;
    out = stderr;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int rc = 0;
        if (strncmp(a, "mark=", 5) == 0) {
            rc = add_marker(a + 5, 0);
        } else if (strncmp(a, "restart=", 8) == 0) {
            rc = add_marker(a + 8, 1);
        } else if (strncmp(a, "out=", 4) == 0) {
            out = fopen(a + 4, "w");
            if (!out) {
                perror(a + 4);
                return -1;
            }
        } else {
            fprintf(stderr, "insncount: unknown argument '%s'\n", a);
            rc = -1;
        }
        if (rc)
            return rc;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
