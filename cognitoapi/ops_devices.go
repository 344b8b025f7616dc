package cognitoapi

import "github.com/cognate-auth/cognate/userpool"

// deviceOperations are device tracking's operations: the user's own,
// authorised by an access token, and the administrators'.
func deviceOperations(s *userpool.Service) map[string]operation {
	const public, admin = false, true
	return map[string]operation{
		"ConfirmDevice":      op(public, s.ConfirmDevice),
		"UpdateDeviceStatus": op(public, s.UpdateDeviceStatus),
		"GetDevice":          op(public, s.GetDevice),
		"ListDevices":        op(public, s.ListDevices),
		"ForgetDevice":       op(public, s.ForgetDevice),

		"AdminGetDevice":          op(admin, s.AdminGetDevice),
		"AdminListDevices":        op(admin, s.AdminListDevices),
		"AdminUpdateDeviceStatus": op(admin, s.AdminUpdateDeviceStatus),
		"AdminForgetDevice":       op(admin, s.AdminForgetDevice),
	}
}
