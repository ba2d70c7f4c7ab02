"""The alliance dashboard: the admin index as alliance managers first see it, with the
alliance's figures drawn as charts (``partners.charts``) over a period they choose.

It stands above every domain and only reads: ``selectors`` ask each domain's tables (and the
partners' and consent's) set-based questions, one grouped query each; ``figures`` turns the
answers into charts in the reader's language; ``views`` puts them on the admin index."""
