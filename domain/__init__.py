"""The reentry domain: models, the policy model and pure functions. No I/O.

Dutch terms map to the English names used everywhere else in the code:

- gemeente: ``municipality`` (CBS code, four digits)
- DJI (Dienst Justitiële Inrichtingen): ``prison_service``
- PI (penitentiaire inrichting): ``prison``
- detentie- en re-integratieplan (D&R plan): ``reintegration_plan``
- reclassering / 3RO: ``probation``
- basisvoorwaarden: ``basic_conditions``
- nazorg: ``aftercare``
- coördinator nazorg: ``coordinator``
- BSN (burgerservicenummer): ``bsn``
"""
