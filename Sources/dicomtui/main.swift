print("dicomtui")
