/* conform --db: the run's cases appended to the results database (db.h) with the environment
 * manifest, one transaction; the --json and --junit files are written first. */
#include <math.h>

#include "conform.h"
#include "db.h"
#include "env.h"

int tfb__cf_store_db(const char *url, const tfb_cf_args *a, const tfb_cf_report *rep) {
    tfb_results res = {0};
    res.env = tfb_env_manifest();
    cJSON *cases = cJSON_CreateArray();
    if (!res.env || !cases) {
        cJSON_Delete(cases);
        tfb_results_free(&res);
        return tfb_cli_fail(tfb_error_set(TFB_STATUS_NOMEM, "out of memory"), "--db");
    }
    cJSON_AddStringToObject(res.env, "act", a->opts.act_q8 ? "q8" : "f32");
    for (int i = 0; i < rep->n; i++) {
        const tfb_cf_result *r = &rep->r[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "backend", r->backend);
        cJSON_AddStringToObject(o, "kind", r->kind);
        cJSON_AddStringToObject(o, "case", r->name);
        cJSON_AddStringToObject(o, "dtype", r->dtype);
        cJSON_AddStringToObject(o, "act", r->act);
        cJSON_AddStringToObject(o, "verdict", tfb__cf_verdict_name(r->verdict));
        if (r->metric_name[0]) {
            cJSON_AddStringToObject(o, "metric", r->metric_name);
            if (isfinite(r->metric))
                cJSON_AddNumberToObject(o, "value", r->metric);
            if (isfinite(r->threshold))
                cJSON_AddNumberToObject(o, "threshold", r->threshold);
        }
        cJSON_AddStringToObject(o, "detail", r->detail);
        cJSON_AddItemToArray(cases, o);
    }
    int rc = tfb_db_store_cli(url, "conform", &res, cases);
    cJSON_Delete(cases);
    tfb_results_free(&res);
    return rc;
}
