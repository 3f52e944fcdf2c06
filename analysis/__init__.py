"""Who gets the data: organisation resolution, recipient sectors and identifying flags."""
