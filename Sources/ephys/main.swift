print("ephys")
