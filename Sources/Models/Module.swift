// placeholder removed when module is written
