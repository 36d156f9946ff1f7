# tests/bench/agg_perf.awk: summarises 'perf script -F tid,ip,sym,dso' output of the
# state node for bench_aggregate.sh (call graphs recorded with --call-graph dwarf).
#
#   perf script -i perf.data -F tid,ip,sym,dso | awk -f agg_perf.awk
#
# Prints, as shares of all samples of the process:
#   - inclusive: the samples whose stack contains the function (a function shared by
#     several paths counts once per sample);
#   - by stage: each sample charged to the innermost function of the list that its
#     stack contains, so the stages add up to 100 % (what the list does not name is
#     charged to its nearest named caller, or to "other").
# Function names are matched exactly; "(inlined)" frames count as their function.

function flush(   i, n, f, seen, inner, k) {
    if (nfr == 0)
        return
    total++
    delete seen
    inner = ""
    # Frames are printed innermost first.
    for (i = 1; i <= nfr; i++) {
        f = fr[i]
        if (f in want && !(f in seen)) {
            seen[f] = 1
            incl[f]++
            if (inner == "")
                inner = f
        }
    }
    if (inner == "")
        inner = "other"
    stage[inner]++
    if (nfr > 0) {
        k = fr[nfr]
        if (k == "[unknown]" && nfr > 1)
            k = fr[nfr - 1]
        root[k]++
    }
    nfr = 0
}

BEGIN {
    # The stages, roughly outermost to innermost.
    n = split("sync_one backfill check_keys remote_fetch agg_summary " \
              "inbox_receive httpsig_verify content_hook log_activity set_outcome " \
              "ingest record_replicate validate render store_row index_record unindex_record " \
              "write_history store_provenance load_row diff_fields " \
              "announce new_activity as2_activity outbox_append " \
              "proof_verify proof_sign jcs_canonicalize hash_jcs crypto_sign_detached " \
              "crypto_sign_verify_detached json_dumps json_loads json_loadb " \
              "db_begin db_commit sqlite3WalCheckpoint sqlite3WalFrames " \
              "set_sync_state delivery_run_once worker_main", names, " ")
    for (i = 1; i <= n; i++)
        want[names[i]] = i
    nfr = 0
}

/^[^ \t]/ { flush(); next }           # a sample header: "TID"
/^[ \t]*$/ { flush(); next }
{
    # "<ip> <sym> (<dso>)": the symbol may contain spaces ("announce (inlined)").
    line = $0
    sub(/^[ \t]*[0-9a-f]+ /, "", line)
    sub(/ \([^()]*\)$/, "", line)
    sub(/ \(inlined\)$/, "", line)
    sub(/\+0x[0-9a-f]+$/, "", line)
    fr[++nfr] = line
}

END {
    flush()
    if (!total) {
        print "   (no samples)"
        exit
    }
    printf "   %d samples\n", total
    printf "   inclusive (share of samples whose stack contains the function):\n"
    for (i = 1; i <= n; i++)
        if (incl[names[i]] > 0)
            printf "     %6.1f%%  %s\n", 100 * incl[names[i]] / total, names[i]
    printf "   by stage (innermost listed function; adds up to 100%%):\n"
    cmd = "sort -rn"
    for (f in stage)
        printf "     %6.1f%%  %s\n", 100 * stage[f] / total, f | cmd
    close(cmd)
}
