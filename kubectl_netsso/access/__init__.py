"""Identity x network, pure: footholds an identity holds (footholds.py), what they reach through the NetworkPolicy
engine (reach.py), audit checks (audit.py), --expect assertions (expect.py) and the HTML report's data (report.py).

Public API:
    derive_footholds(snapshot, perms, namespaces) -> [Foothold]   perms: RbacPermissions(Authorizer(snap), user, groups)
                                                                  or any object with check(Request) / names_for(...)
    ReachEngine(snapshot).reach(foothold) -> Reach                 compiled once, memoised per equivalence class
    audit(engine, authorizer=..., namespaces=..., cni_warning=...) -> [Finding]
    load_expectations(data, where) / check_expectations(...) -> [ExpectResult]
    build_report(engine, ...) -> ReportData                        the report's data (output/report renders the page)
"""
