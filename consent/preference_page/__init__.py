"""The member's preference page, all of it in this package: a signed, expiring link for one
member with no log-in (``links``), the page and its one-click withdrawal (``views``, ``urls``,
templates under ``templates/preference_page/``), the look it takes from the member's company
(``branding``), and the registry through which higher apps add their privacy notices to it
(``notices``)."""
