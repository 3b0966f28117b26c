"""What a hospital does not run: the demo and the test data.

Synthetic people and hồ sơ (:mod:`.synthetic`, no patient data), the named scenarios behind ``fixtures/``
(:mod:`.scenarios`), the demo HIS in two shapes (:mod:`.his` on :mod:`.his_schema`; :mod:`.his_vn` with
Vietnamese names, text keys and dates), its catalogues (:mod:`.catalog`, :mod:`.catalog_synthetic`), the local
portal and remote-signer simulators (:mod:`.portal_sim`, :mod:`.signer_sim`) and the demo job (:mod:`.job`).
"""
