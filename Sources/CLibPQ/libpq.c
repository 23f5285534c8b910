// CLibPQ: libpq.so.5 loaded on first use (see include/fleetdex_libpq.h), each function called
// through the pointer dlsym gave. The only C code that calls libpq.
#include "fleetdex_libpq.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

#define FXPQ_FUNCTIONS(X) \
    X(PGconn *, PQconnectdb, (const char *)) \
    X(void, PQfinish, (PGconn *)) \
    X(int, PQstatus, (const PGconn *)) \
    X(char *, PQerrorMessage, (const PGconn *)) \
    X(PQnoticeProcessor, PQsetNoticeProcessor, (PGconn *, PQnoticeProcessor, void *)) \
    X(int, PQtransactionStatus, (const PGconn *)) \
    X(int, PQserverVersion, (const PGconn *)) \
    X(int, PQlibVersion, (void)) \
    X(PGresult *, PQexec, (PGconn *, const char *)) \
    X(PGresult *, PQexecParams, (PGconn *, const char *, int, const Oid *, const char *const *, const int *, const int *, int)) \
    X(PGresult *, PQprepare, (PGconn *, const char *, const char *, int, const Oid *)) \
    X(PGresult *, PQexecPrepared, (PGconn *, const char *, int, const char *const *, const int *, const int *, int)) \
    X(int, PQresultStatus, (const PGresult *)) \
    X(char *, PQresultErrorField, (const PGresult *, int)) \
    X(void, PQclear, (PGresult *)) \
    X(int, PQntuples, (const PGresult *)) \
    X(int, PQnfields, (const PGresult *)) \
    X(char *, PQfname, (const PGresult *, int)) \
    X(Oid, PQftype, (const PGresult *, int)) \
    X(char *, PQgetvalue, (const PGresult *, int, int)) \
    X(int, PQgetisnull, (const PGresult *, int, int)) \
    X(char *, PQcmdTuples, (PGresult *)) \
    X(int, PQputCopyData, (PGconn *, const char *, int)) \
    X(int, PQputCopyEnd, (PGconn *, const char *)) \
    X(PGresult *, PQgetResult, (PGconn *))

#define DECLARE(ret, name, args) static ret (*p_##name) args;
FXPQ_FUNCTIONS(DECLARE)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded = 0;
static const char *load_error = NULL;

static void load(void) {
    void *lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        load_error = dlerror();
        return;
    }
#define RESOLVE(ret, name, args) \
    p_##name = (ret (*) args)dlsym(lib, #name); \
    if (p_##name == NULL) { load_error = "libpq.so.5 lacks " #name; return; }
    FXPQ_FUNCTIONS(RESOLVE)
    loaded = 1;
}

int fxpq_load(void) {
    pthread_once(&once, load);
    return loaded;
}

const char *fxpq_load_error(void) { return load_error; }

PGconn *fxpq_connectdb(const char *c) { return p_PQconnectdb(c); }
void fxpq_finish(PGconn *c) { p_PQfinish(c); }
int fxpq_status(const PGconn *c) { return p_PQstatus(c); }
char *fxpq_errorMessage(const PGconn *c) { return p_PQerrorMessage(c); }
PQnoticeProcessor fxpq_setNoticeProcessor(PGconn *c, PQnoticeProcessor p, void *a) { return p_PQsetNoticeProcessor(c, p, a); }
int fxpq_transactionStatus(const PGconn *c) { return p_PQtransactionStatus(c); }
int fxpq_serverVersion(const PGconn *c) { return p_PQserverVersion(c); }
int fxpq_libVersion(void) { return fxpq_load() ? p_PQlibVersion() : 0; }
PGresult *fxpq_exec(PGconn *c, const char *q) { return p_PQexec(c, q); }
PGresult *fxpq_execParams(PGconn *c, const char *q, int k, const char *const *v) { return p_PQexecParams(c, q, k, NULL, v, NULL, NULL, 0); }
PGresult *fxpq_prepare(PGconn *c, const char *n, const char *q, int k, const Oid *t) { return p_PQprepare(c, n, q, k, t); }
PGresult *fxpq_execPrepared(PGconn *c, const char *n, int k, const char *const *v, const int *l, const int *f, int r) {
    return p_PQexecPrepared(c, n, k, v, l, f, r);
}
int fxpq_resultStatus(const PGresult *r) { return p_PQresultStatus(r); }
char *fxpq_resultErrorField(const PGresult *r, int f) { return p_PQresultErrorField(r, f); }
void fxpq_clear(PGresult *r) { p_PQclear(r); }
int fxpq_ntuples(const PGresult *r) { return p_PQntuples(r); }
int fxpq_nfields(const PGresult *r) { return p_PQnfields(r); }
char *fxpq_fname(const PGresult *r, int f) { return p_PQfname(r, f); }
Oid fxpq_ftype(const PGresult *r, int f) { return p_PQftype(r, f); }
char *fxpq_getvalue(const PGresult *r, int t, int f) { return p_PQgetvalue(r, t, f); }
int fxpq_getisnull(const PGresult *r, int t, int f) { return p_PQgetisnull(r, t, f); }
char *fxpq_cmdTuples(PGresult *r) { return p_PQcmdTuples(r); }
int fxpq_putCopyData(PGconn *c, const char *b, int n) { return p_PQputCopyData(c, b, n); }
int fxpq_putCopyEnd(PGconn *c, const char *e) { return p_PQputCopyEnd(c, e); }
PGresult *fxpq_getResult(PGconn *c) { return p_PQgetResult(c); }
