// CLibPQ: the part of libpq's C API (libpq-fe.h, libpq.so.5) that FleetPostgres uses, loaded
// with dlopen on the first PostgreSQL connection rather than linked: a process that never
// opens a postgres:// database (every SQLite command of the CLI) does not load libpq and the
// ~20 libraries it pulls in (OpenSSL, Kerberos, LDAP), which cost the CLI milliseconds of
// start-up. The types and constants are libpq's ABI (stable across libpq.so.5).
#ifndef FLEETDEX_LIBPQ_H
#define FLEETDEX_LIBPQ_H

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;
typedef unsigned int Oid;
typedef void (*PQnoticeProcessor)(void *arg, const char *message);

/* ConnStatusType */
#define CONNECTION_OK 0
/* ExecStatusType */
#define PGRES_EMPTY_QUERY 0
#define PGRES_COMMAND_OK 1
#define PGRES_TUPLES_OK 2
#define PGRES_COPY_IN 4
/* PGTransactionStatusType */
#define PQTRANS_IDLE 0

/// Loads libpq.so.5 once (thread-safe); 1 when every function below is available.
int fxpq_load(void);
/// Why loading failed (dlerror's message), or NULL.
const char *fxpq_load_error(void);

PGconn *fxpq_connectdb(const char *conninfo);
void fxpq_finish(PGconn *conn);
int fxpq_status(const PGconn *conn);
char *fxpq_errorMessage(const PGconn *conn);
PQnoticeProcessor fxpq_setNoticeProcessor(PGconn *conn, PQnoticeProcessor proc, void *arg);
int fxpq_transactionStatus(const PGconn *conn);
int fxpq_serverVersion(const PGconn *conn);
int fxpq_libVersion(void);
PGresult *fxpq_exec(PGconn *conn, const char *query);
/* One statement with text parameters, parsed, bound and run in one round trip (unnamed). */
PGresult *fxpq_execParams(PGconn *conn, const char *query, int nParams, const char *const *paramValues);
PGresult *fxpq_prepare(PGconn *conn, const char *name, const char *query, int nParams, const Oid *paramTypes);
PGresult *fxpq_execPrepared(PGconn *conn, const char *name, int nParams, const char *const *paramValues,
                            const int *paramLengths, const int *paramFormats, int resultFormat);
int fxpq_resultStatus(const PGresult *res);
char *fxpq_resultErrorField(const PGresult *res, int fieldcode);
void fxpq_clear(PGresult *res);
int fxpq_ntuples(const PGresult *res);
int fxpq_nfields(const PGresult *res);
char *fxpq_fname(const PGresult *res, int field);
Oid fxpq_ftype(const PGresult *res, int field);
char *fxpq_getvalue(const PGresult *res, int tup, int field);
int fxpq_getisnull(const PGresult *res, int tup, int field);
char *fxpq_cmdTuples(PGresult *res);
/// COPY FROM STDIN: after a PQexec of the COPY statement returned PGRES_COPY_IN, the data in
/// pieces (1 sent, -1 failed; 0 only in non-blocking mode, which fleetdex does not use), then
/// its end (`errormsg` non-NULL aborts the COPY with that message), then PQgetResult until NULL
/// for the COPY's own result.
int fxpq_putCopyData(PGconn *conn, const char *buffer, int nbytes);
int fxpq_putCopyEnd(PGconn *conn, const char *errormsg);
PGresult *fxpq_getResult(PGconn *conn);

#endif
